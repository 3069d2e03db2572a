from __future__ import annotations

from django import forms

from governance.approvals.models import ChangeType, DecisionKind, RiskClass
from governance.approvals.selectors import INBOX_TABS, InboxFilters
from governance.approvals.transitions import STAGE_TRANSITIONS
from governance.core.errors import DomainError
from governance.evidence.models import EvidenceKind
from governance.registry.models import RiskTier, Stage


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=DecisionKind.choices, widget=forms.RadioSelect)
    role = forms.ChoiceField(choices=[], required=False, help_text="The role you sign in.")
    risk_class = forms.ChoiceField(choices=RiskClass.choices, label="Risk classification")
    ticket_id = forms.CharField(max_length=100, required=False, label="Ticket ID")
    reason = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, roles: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, r.replace("_", " ")) for r in (roles or [])]


def _transition_choices() -> list[tuple[str, str]]:
    """Every move a request can make, in lifecycle order: "staging->production"."""
    order = list(Stage.values)
    pairs = sorted(
        ((src, dst) for src, dsts in STAGE_TRANSITIONS.items() for dst in dsts),
        key=lambda pair: (order.index(pair[0]), order.index(pair[1])),
    )
    return [(f"{src}->{dst}", f"{src} → {dst}") for src, dst in pairs]


class InboxFilterForm(forms.Form):
    """The inbox's tab and filters, all query parameters (`?tab=mine&team=credit`); an unknown
    value is a form error, answered with a 400 that says which."""

    tab = forms.ChoiceField(choices=list(INBOX_TABS.items()), required=False)
    team = forms.ChoiceField(choices=[], required=False)
    risk_tier = forms.ChoiceField(choices=[("", "any tier"), *RiskTier.choices], required=False, label="Risk tier")
    change_type = forms.ChoiceField(
        choices=[("", "any change"), *ChangeType.choices], required=False, label="Change type"
    )
    transition = forms.ChoiceField(choices=[("", "any transition"), *_transition_choices()], required=False)
    overdue = forms.BooleanField(required=False, label="Overdue only")

    def __init__(self, *args, teams: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "any team"), *((name, name) for name in teams)]

    @property
    def chosen_tab(self) -> str:
        """The tab asked for, "waiting" by default (kept when another parameter is wrong)."""
        self.is_valid()  # cleans once; valid fields stay in cleaned_data even if others are not
        return getattr(self, "cleaned_data", {}).get("tab") or "waiting"

    @property
    def has_filters(self) -> bool:
        """Whether any filter (not the tab) was given."""
        return any(self.data.get(name) for name in ("team", "risk_tier", "change_type", "transition", "overdue"))

    def filters(self) -> InboxFilters:
        """The filters asked for (none when the form is invalid)."""
        if not self.is_valid():
            return InboxFilters()
        data = self.cleaned_data
        return InboxFilters(
            team=data["team"],
            risk_tier=data["risk_tier"],
            change_type=data["change_type"],
            transition=data["transition"],
            overdue=data["overdue"],
        )


class PromotionForm(forms.Form):
    to_stage = forms.ChoiceField(choices=Stage.choices, label="Move to")
    change_type = forms.ChoiceField(choices=ChangeType.choices, initial=ChangeType.STANDARD)
    ticket_id = forms.CharField(max_length=100, required=False, label="Ticket ID")
    justification = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=1000, required=False)


class RollbackForm(forms.Form):
    reason = forms.CharField(max_length=1000)
    ticket_id = forms.CharField(max_length=100, required=False, label="Ticket ID")


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=EvidenceKind.choices)
    file = forms.FileField()


class ModelFilterForm(forms.Form):
    team = forms.CharField(required=False)
    risk_tier = forms.ChoiceField(choices=[("", "any tier"), *RiskTier.choices], required=False)
    stage = forms.ChoiceField(choices=[("", "any stage"), *Stage.choices], required=False)
    q = forms.CharField(required=False, label="Search")


TRANSITION_CHOICES = [
    (f"{src}->{dst}", f"{src} → {dst}")
    for src, dst in (
        ("draft", "staging"),
        ("staging", "production"),
        ("draft", "production"),
        ("production", "deprecated"),
        ("deprecated", "archived"),
        ("staging", "archived"),
        ("draft", "archived"),
    )
]


class DryRunForm(forms.Form):
    transition = forms.ChoiceField(
        choices=TRANSITION_CHOICES,
        label="Transition",
        help_text="Any transition the policy names, whatever the current stage.",
    )


class PolicyForm(forms.Form):
    content = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 30, "class": "mono", "spellcheck": "false"}), max_length=256 * 1024
    )
    reason = forms.CharField(max_length=500, help_text="Why this change (kept in the audit trail).")


class RoleChangeForm(forms.Form):
    action = forms.ChoiceField(choices=[("grant", "Grant"), ("revoke", "Revoke")])
    username = forms.CharField(max_length=150, label="User")
    role = forms.ChoiceField(choices=[])
    scope = forms.CharField(max_length=110, help_text="team:NAME or model:NAME")

    def __init__(self, *args, **kwargs):
        from governance.accounts.roles import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Role.choices


def add_domain_error(form: forms.Form, exc: DomainError, rename: dict[str, str] | None = None) -> None:
    """A refusal from a service, as form errors: on its fields where the form has them
    (`rename` maps a service's field name to the form's, e.g. user -> username)."""
    placed = False
    for field, messages in exc.fields.items():
        field = (rename or {}).get(field, field)
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
