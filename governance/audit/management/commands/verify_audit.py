from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.audit.anchor import anchor_parse, anchor_problem
from governance.audit.services import audit_verify


class Command(BaseCommand):
    # No system checks: they import every URLconf and view (charts, PDFs, statistics), about
    # 120 MB of RSS this command never uses (bench/RESULTS.md). `manage.py check` runs them.
    requires_system_checks = []
    help = (
        "Verify the audit hash chain (and the gate outcomes recorded in it): prints OK, or names "
        "the first bad event and exits non-zero. With --anchor FILE, also checks the trail still "
        "holds the chain head that anchor recorded (catches a re-hashed trail)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--anchor", metavar="FILE", help="an anchor file written by audit_anchor (beat, daily)")

    def handle(self, *args, **options):
        problems = []
        anchored = ""
        if options["anchor"]:
            path = Path(options["anchor"])
            try:
                document = anchor_parse(path.read_bytes())
            except OSError as exc:
                raise CommandError(f"anchor {path}: cannot read it: {exc.strerror or exc}") from exc
            except ValueError as exc:
                raise CommandError(f"anchor {path}: {exc}") from exc
            problem = anchor_problem(document)
            if problem:
                problems.append(f"anchor {path.name}: {problem}")
            else:
                anchored = f"; holds the anchor of {document['written_at']} (event #{document['seq']})"
        verdict = audit_verify()
        if not verdict.ok:
            where = f"event #{verdict.first_bad_seq}" if verdict.first_bad_seq is not None else "a recorded fact"
            problems.insert(0, f"audit chain broken at {where}: {verdict.reason}")
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write(f"OK ({verdict.checked} events{anchored})")
