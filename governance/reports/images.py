"""Plotly figures to static SVG for PDFs, with kaleido driving Debian's Chromium.

One persistent kaleido server per process (`kaleido.start_sync_server`), started on first use:
about 0.15 s an image instead of ~2 s for a browser per image. MathJax is off and plotly.js
comes from the plotly package, so nothing is fetched from a CDN. The figures are the same
objects the pages embed (`reports.charts`), never re-drawn here.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading

import plotly.graph_objects as go
from django.conf import settings

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 720, 280  # px; the PDF scales the SVG to the text width
_lock = threading.Lock()
_started = False


class ChartUnavailable(RuntimeError):
    """The browser that renders charts could not be started or failed on a figure."""


def _server():
    global _started
    import kaleido

    with _lock:
        if not _started:
            browser = settings.REPORT_BROWSER_PATH
            if not os.path.exists(browser):
                raise ChartUnavailable(f"No browser at {browser} (set REPORT_BROWSER_PATH; apt-get install chromium).")
            os.environ["BROWSER_PATH"] = browser  # choreographer's setting: never download a browser
            for name in ("kaleido", "choreographer", "logistro", "weasyprint.progress"):  # INFO chatter
                logging.getLogger(name).setLevel(logging.WARNING)
            kaleido.start_sync_server(mathjax=False, silence_warnings=True)
            _started = True
    return kaleido


def figure_svg(fig: go.Figure, *, width: int = WIDTH, height: int | None = None) -> str:
    """The figure as an SVG document (text)."""
    kaleido = _server()
    height = height or int(fig.layout.height or HEIGHT)
    try:
        with _lock:  # the sync server answers one call at a time
            data = kaleido.calc_fig_sync(fig, opts={"format": "svg", "width": width, "height": height})
    except Exception as exc:  # a browser crash must not lose the report: the caller says so in the PDF
        raise ChartUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return data.decode("utf-8") if isinstance(data, bytes) else str(data)


def figure_key(fig: go.Figure, *, width: int = WIDTH, height: int | None = None) -> str:
    """The sha256 of what is drawn: the figure's Plotly JSON and the image size."""
    text = f"{width}x{height or ''}:{fig.to_json()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def figure_svg_stored(fig: go.Figure, *, width: int = WIDTH, height: int | None = None) -> tuple[str, bool]:
    """(svg, drawn_now): from the chart store when this exact figure was drawn before."""
    from django.db import IntegrityError, transaction

    from governance.reports.models import ChartImage

    key = figure_key(fig, width=width, height=height)
    svg = ChartImage.objects.filter(pk=key).values_list("svg", flat=True).first()
    if svg is not None:
        return svg, False
    svg = figure_svg(fig, width=width, height=height)
    try:
        with transaction.atomic():
            ChartImage.objects.get_or_create(pk=key, defaults={"svg": svg})
    except IntegrityError:  # drawn by another worker meanwhile: same picture
        pass
    return svg, True


def svg_data_uri(svg: str) -> str:
    """For <img src=...> in the report HTML (WeasyPrint renders SVG as vector graphics)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
