"""The inbox's rows (and the model list's) with what each shows that costs template work,
built once per page.

The waiting tab shows every waiting request on one page, and each row's three links, its
times and its labels cost about 1 ms of template tags and filters (a `reverse()` per link,
a locale lookup per `date`, the choices per label). Here the links come from one
`reverse()` per kind and string formatting, the times are formatted as `date` formats
them, and each label is looked up once per page, so the page reads ready strings. The HTML
is the one the tags and filters made (tests/web/test_inbox_rows.py compares them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.timesince import timesince

from governance.approvals.models import PromotionRequest
from governance.approvals.selectors import InboxItem
from governance.registry.models import RegisteredModel

# Model names a link takes as they are: what `reverse` would neither quote nor refuse
# (others, never made by the registry's validator, go through `reverse` itself).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.~-]+")
_NAME, _NUMBER = "zz-inbox-name-zz", 918273645


class Links:
    """The request, model and version links of the current URL prefix, by string formatting
    (make one per page: the prefix is the request's)."""

    def __init__(self):
        # (text before, text after) the placeholder(s) in each kind of link
        self.request = reverse("web:request_detail", args=[_NUMBER]).rpartition(str(_NUMBER))[::2]
        self.model = reverse("web:model_detail", args=[_NAME]).rpartition(_NAME)[::2]
        head, _, tail = reverse("web:version_detail", args=[_NAME, _NUMBER]).rpartition(str(_NUMBER))
        self.version = (*head.rpartition(_NAME)[::2], tail)

    def request_url(self, pk: int) -> str:
        before, after = self.request
        return f"{before}{int(pk)}{after}"

    def model_url(self, name: str) -> str:
        if not _PLAIN_NAME.fullmatch(name):
            return reverse("web:model_detail", args=[name])
        before, after = self.model
        return f"{before}{name}{after}"

    def version_url(self, name: str, number: int) -> str:
        if not _PLAIN_NAME.fullmatch(name):
            return reverse("web:version_detail", args=[name, number])
        before, between, after = self.version
        return f"{before}{name}{between}{int(number)}{after}"


@dataclass(frozen=True)
class Moment:
    """A time as the row shows it: `|date:'c'`, `|date:'Y-m-d H:i'` and `|timesince`."""

    iso: str
    title: str
    since: str


def moment(value: datetime | None, since: bool = True) -> Moment:
    if value is None:
        return Moment("", "", "")
    local = timezone.localtime(value) if timezone.is_aware(value) else value  # as the template shows it
    # What `dateformat` makes of "c" and of "Y-m-d H:i".
    title = f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
    return Moment(local.isoformat(), title, timesince(value) if since else "")


class Labels:
    """`get_FOO_display|lower` of a field, with its choices read once per page."""

    def __init__(self, model, field: str):
        self.choices = dict(make_hashable(model._meta.get_field(field).flatchoices))
        self.known: dict = {}

    def __call__(self, value) -> str:
        if value not in self.known:
            self.known[value] = force_str(self.choices.get(make_hashable(value), value), strings_only=True).lower()
        return self.known[value]


@dataclass(frozen=True)
class InboxRow:
    item: InboxItem
    request_url: str
    model_url: str
    version_url: str
    change_type: str  # labels, lower case
    risk_tier: str
    from_stage: str
    to_stage: str
    status: str
    filled: int  # approval slots filled
    requested: Moment
    closed: Moment | None  # the "Recently decided" tab's column
    due: Moment | None  # when approvals are due (item.sla), without `since`


def inbox_rows(items: list[InboxItem], *, closed: bool = False) -> list[InboxRow]:
    """The rows of one inbox page; `closed`: with the time each request closed."""
    links = Links()
    change_type, from_stage, to_stage, status = (
        Labels(PromotionRequest, f) for f in ("change_type", "from_stage", "to_stage", "status")
    )
    risk_tier = Labels(RegisteredModel, "risk_tier")
    rows = []
    for item in items:
        r = item.request
        name = r.version.model.name
        rows.append(
            InboxRow(
                item=item,
                request_url=links.request_url(r.pk),
                model_url=links.model_url(name),
                version_url=links.version_url(name, r.version.version),
                change_type=change_type(r.change_type),
                risk_tier=risk_tier(r.version.model.risk_tier),
                from_stage=from_stage(r.from_stage),
                to_stage=to_stage(r.to_stage),
                status=status(r.status),
                filled=sum(1 for slot in item.slot_state.slots if slot.decision is not None),
                requested=moment(r.requested_at),
                closed=moment(r.status_changed_at) if closed else None,
                due=moment(item.sla.due_at, since=False) if item.sla else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ModelRow:
    """A row of the model list (`models_for_list`): its links and risk tier label."""

    model: RegisteredModel
    url: str
    production_url: str  # "" when no version is in production
    risk_tier: str


def model_rows(models: list[RegisteredModel]) -> list[ModelRow]:
    """The rows of one page of the model list, built as `inbox_rows` builds the inbox's."""
    links, risk_tier = Links(), Labels(RegisteredModel, "risk_tier")
    return [
        ModelRow(
            model=m,
            url=links.model_url(m.name),
            production_url=links.version_url(m.name, m.production_version_number)
            if m.production_version_number
            else "",
            risk_tier=risk_tier(m.risk_tier),
        )
        for m in models
    ]
