"""Post-incident reviews of emergency changes: assigned when an emergency is promoted,
reminded before their deadline, escalated after it, submitted by an assignee (or an admin).
Each change is audited in the transaction that makes it."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.accounts.permissions import is_admin, users_holding_roles
from governance.accounts.roles import Role
from governance.approvals.models import PostIncidentReview, PromotionRequest
from governance.approvals.transitions import PromotionError
from governance.audit.services import audit_record
from governance.notifications.services import notify


def review_assign(request: PromotionRequest, *, actor) -> PostIncidentReview:
    """The post-incident review of a promoted emergency, for the model's owners and risk officers."""
    model = request.version.model
    review = PostIncidentReview.objects.create(request=request, due_at=request.review_due_at or timezone.now())
    assignees = users_holding_roles(model, [Role.MODEL_OWNER, Role.RISK_OFFICER])
    review.assignees.set(assignees)
    audit_record(
        actor=actor,
        action="review.assigned",
        obj=request,
        model_name=model.name,
        data={"due_at": review.due_at.isoformat(), "assignees": sorted(assignees)},
    )
    return review


@transaction.atomic
def review_submit(
    *, user, request: PromotionRequest, what_happened: str, root_cause: str, follow_ups: str
) -> PostIncidentReview:
    review = PostIncidentReview.objects.select_for_update().filter(request_id=request.pk).first()
    if review is None:
        raise PromotionError("This request has no post-incident review.", code="invalid_state")
    if not (review.assignees.filter(pk=user.pk).exists() or is_admin(user)):
        raise PermissionDenied("The review is for the model's owners and risk officers.")
    if review.submitted_at is not None:
        raise PromotionError("The review was submitted already.", code="invalid_state")
    values = {"what_happened": what_happened, "root_cause": root_cause, "follow_ups": follow_ups}
    missing = [name for name, text in values.items() if not (text or "").strip()]
    if missing:
        raise PromotionError(
            "Fill in " + ", ".join(m.replace("_", " ") for m in missing) + ".",
            fields={name: ["This field is required."] for name in missing},
        )
    for name, text in values.items():
        setattr(review, name, text.strip()[:5000])
    review.submitted_by, review.submitted_at = user, timezone.now()
    review.save()
    audit_record(
        actor=user,
        action="review.submitted",
        obj=request,
        model_name=request.version.model.name,
        data={**{k: getattr(review, k) for k in values}, "due_at": review.due_at.isoformat()},
    )
    return review


def reviews_remind(*, now=None) -> int:
    """Beat, daily: open reviews due within a day are reminded to their assignees; overdue ones
    are escalated to the model's risk and compliance officers and the admins as well."""
    now = now or timezone.now()
    day = now.date().isoformat()
    sent = 0
    open_reviews = PostIncidentReview.objects.filter(submitted_at__isnull=True, due_at__lt=now + timedelta(days=1))
    for review in open_reviews.select_related("request__version__model").prefetch_related("assignees"):
        request, assignees = review.request, list(review.assignees.all())
        with transaction.atomic():
            if review.is_overdue(now):
                model = request.version.model
                officers = users_holding_roles(model, [Role.RISK_OFFICER, Role.COMPLIANCE_OFFICER])
                escalate = get_user_model().objects.filter(Q(pk__in=officers) | Q(is_staff=True), is_active=True)
                message = f"The post-incident review of {request} was due {review.due_at:%Y-%m-%d %H:%M} UTC."
                sent += len(
                    notify(
                        event="review_overdue",
                        request=request,
                        recipients=[*assignees, *escalate],
                        message=message,
                        key=day,
                        escalation=True,
                    )
                )
            else:
                message = f"The post-incident review of {request} is due {review.due_at:%Y-%m-%d %H:%M} UTC."
                sent += len(notify(event="review_due", request=request, recipients=assignees, message=message, key=day))
    return sent
