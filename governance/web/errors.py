"""The DEBUG error page and error e-mails, safe for any text an attacker sent."""

from __future__ import annotations

from django.views.debug import ExceptionReporter


def _encodable(text: str) -> str:
    """A lone surrogate (a JSON "\\ud800") cannot be encoded as UTF-8: shown escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class SafeExceptionReporter(ExceptionReporter):
    def get_traceback_html(self):
        return _encodable(super().get_traceback_html())

    def get_traceback_text(self):
        return _encodable(super().get_traceback_text())
