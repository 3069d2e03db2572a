"""Regenerate the sample audit PDF pages in docs/reports/ from a freshly seeded demo.

    .venv/bin/python scripts/report_pages.py

A scratch SQLite database and media folder (nothing of var/ is touched), `seed_demo`, then
the same service the worker runs builds a request report and a model report; pdftoppm
turns chosen pages into PNGs that docs/reports.md shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reports"


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="report-pages-"))
    os.environ.update(
        {
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{scratch}/demo.sqlite3",
            "MEDIA_ROOT": str(scratch / "media"),
            "EMAIL_BACKEND": "locmem",
            # Tasks queued by the demo go to a queue nobody reads; gates run in this process.
            "CELERY_TASK_DEFAULT_QUEUE": f"report-pages-{os.getpid()}",
        }
    )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))

    import plotly.graph_objects as go

    from governance.approvals.models import PromotionRequest
    from governance.reports.images import figure_svg
    from governance.reports.models import Report
    from governance.reports.services import report_build, report_start

    figure_svg(go.Figure(go.Bar(x=[1], y=[1])))  # a worker's kaleido browser is already running

    promoted = (
        PromotionRequest.objects.filter(status="promoted", to_stage="production")
        .select_related("version__model")
        .order_by("-decisions__id")
        .first()
    )
    officer = promoted.decisions.order_by("created_at").last().user
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    for scope, kwargs, pages in (
        ("request", {"request": promoted}, [1, 2, 3, 4, 5, 6, 7, 8, 9]),
        ("model", {"model": promoted.version.model}, [3, 4, 5]),
    ):
        report = report_start(user=officer, scope=scope, **kwargs)
        started = time.monotonic()
        assert report_build(report_id=report.pk) == "done", Report.objects.get(pk=report.pk).error
        took = time.monotonic() - started
        report.refresh_from_db()
        pdf = scratch / f"{scope}.pdf"
        shutil.copyfile(report.file.path, pdf)
        for page in pages:
            if page > report.pages:
                continue
            target = OUT / f"{scope}-report-page-{page}"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile", pdf, target],
                check=True,
            )
        print(f"{scope} report: {report.pages} pages in {took:.2f} s, sha256 {report.sha256}; {pdf}")
    print(f"pages written to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
