"""What a notification email says: its subject, text and HTML bodies and absolute links.

Bodies come from templates/email/<event>.txt and .html (a shared layout, inline CSS only, no
remote images). Every message links to the page where the reader acts (the request page,
absolute from SITE_URL) and to the reader's email preferences.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from governance.notifications.models import NotificationKind

if TYPE_CHECKING:
    from governance.approvals.models import PromotionRequest
    from governance.notifications.models import Notification, NotificationDigest

# The words on the button that takes the reader to the request page.
ACTION_LABELS = {
    NotificationKind.APPROVAL_NEEDED: "Review and decide",
    NotificationKind.APPROVAL_STALE: "Review again",
    NotificationKind.SLA_REMINDER: "Review and decide",
    NotificationKind.GATES_FAILED: "See the gate results",
    NotificationKind.GATE_ACCEPTANCE_NEEDED: "Review the gate and accept it or not",
    NotificationKind.CHANGES_REQUESTED: "See the requested changes",
}
DEFAULT_ACTION_LABEL = "Open the request"


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def request_url(request_id: int) -> str:
    # Reversed by name: the page belongs to the web package, which this package never imports.
    return absolute_url(reverse("web:request_detail", args=[request_id]))


def preferences_url() -> str:
    return absolute_url(reverse("notifications:preferences"))


def request_title(request: PromotionRequest) -> str:
    """'credit-risk-scorecard v3 staging → production (#6)'"""
    version = request.version
    return f"{version.model.name} v{version.version} {request.from_stage} → {request.to_stage} (#{request.pk})"


def _subject(text: str) -> str:
    """EMAIL_SUBJECT_PREFIX ("[Model governance]"), one space, the text."""
    prefix = settings.EMAIL_SUBJECT_PREFIX.strip()
    return f"{prefix} {text}" if prefix else text


def notification_subject(notification: Notification) -> str:
    label = NotificationKind(notification.kind).label
    return _subject(f"{label}: {request_title(notification.request)}")


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def request_facts(request: PromotionRequest) -> list[tuple[str, str]]:
    """The request at a glance, as the email's table shows it (as it is when sent)."""
    version = request.version
    facts = [
        ("Model", version.model.name),
        ("Version", f"v{version.version}"),
        ("Move", f"{request.from_stage} → {request.to_stage}"),
        ("Change type", request.get_change_type_display()),
        ("Requested by", _person(request.requested_by)),
    ]
    if request.ticket_id:
        facts.append(("Ticket", request.ticket_id))
    if request.policy_name:
        facts.append(("Policy", request.policy_name))
    facts.append(("Status now", request.get_status_display()))
    return facts


def _request_context(request: PromotionRequest) -> dict:
    version = request.version
    return {
        "request": request,
        "title": request_title(request),
        "model_name": version.model.name,
        "version_label": f"v{version.version}",
        "requester": _person(request.requested_by),
        "facts": request_facts(request),
        "url": request_url(request.pk),
        # Inconclusive gates a named person accepted in this round (the approval email says so).
        "gates_accepted": list(
            request.gate_acceptances.filter(round=request.gate_round).values_list("gate_id", flat=True)
        ),
    }


def _message_id(kind: str, pk: int) -> str:
    """The same Message-ID for every delivery attempt of one message, so a copy sent twice
    (a worker lost after SMTP accepted it) can be recognised as one by the receiving side."""
    host = urlparse(settings.SITE_URL).hostname or "localhost"
    return f"<governance-{kind}-{pk}@{host}>"


def _email(*, subject: str, to: str, text: str, html: str, message_id: str) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def notification_message(notification: Notification) -> EmailMultiAlternatives:
    """The immediate email for one notification."""
    request = notification.request
    subject = notification_subject(notification)
    context = {
        **_request_context(request),
        "notification": notification,
        "kind_label": NotificationKind(notification.kind).label,
        "subject": subject,
        "action_label": ACTION_LABELS.get(notification.kind, DEFAULT_ACTION_LABEL),
        "preferences_url": preferences_url(),
    }
    return _email(
        subject=subject,
        to=notification.recipient.email,
        text=render_to_string(f"email/{notification.kind}.txt", context),
        html=render_to_string(f"email/{notification.kind}.html", context),
        message_id=_message_id("notification", notification.pk),
    )


def digest_subject(notifications: Sequence[Notification]) -> str:
    n_requests = len({n.request_id for n in notifications})
    updates = f"{len(notifications)} update{'s' if len(notifications) != 1 else ''}"
    requests = f"{n_requests} request{'s' if n_requests != 1 else ''}"
    return _subject(f"Daily digest: {updates} on {requests}")


def digest_message(digest: NotificationDigest, notifications: Sequence[Notification]) -> EmailMultiAlternatives:
    """One email listing a person's digest notifications, grouped by request, oldest first."""
    groups: dict[int, dict] = {}
    for notification in sorted(notifications, key=lambda n: (n.created_at, n.pk)):
        group = groups.setdefault(notification.request_id, {**_request_context(notification.request), "items": []})
        group["items"].append({"label": NotificationKind(notification.kind).label, "notification": notification})
    subject = digest_subject(notifications)
    context = {
        "digest": digest,
        "groups": list(groups.values()),
        "count": len(notifications),
        "subject": subject,
        "inbox_url": absolute_url(reverse("web:inbox")),
        "preferences_url": preferences_url(),
    }
    return _email(
        subject=subject,
        to=digest.recipient.email,
        text=render_to_string("email/digest.txt", context),
        html=render_to_string("email/digest.html", context),
        message_id=_message_id("digest", digest.pk),
    )


def email_destination() -> str:
    """Where emails go with the current settings, in words (`make run` prints it)."""
    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.filebased.EmailBackend":
        path = Path(settings.EMAIL_FILE_PATH).resolve()
        if path.is_relative_to(Path.cwd()):
            path = path.relative_to(Path.cwd())
        return f"{path}/ (a file per email)"
    if backend == "django.core.mail.backends.smtp.EmailBackend":
        return f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if backend == "django.core.mail.backends.console.EmailBackend":
        return "the worker's output (console backend)"
    if backend == "django.core.mail.backends.locmem.EmailBackend":
        return "nowhere: kept in memory (locmem backend)"
    return backend
