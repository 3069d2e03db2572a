"""A test-only email backend: the SMTP relay is outside the product, so tests make it fail."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.locmem import EmailBackend


class FlakyBackend(EmailBackend):
    """Raises SMTPServerDisconnected for the next `failures` sends, then delivers to
    django.core.mail.outbox like the locmem backend."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed (test relay down)")
        return super().send_messages(messages)
