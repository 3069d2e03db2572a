from __future__ import annotations

import re

from django import forms
from django.contrib.auth import authenticate

from governance.accounts.permissions import DecisionRight
from governance.approvals.models import ChangeType, DecisionKind, PromotionRequest, RiskClass
from governance.approvals.selectors import INBOX_TABS, InboxFilters
from governance.approvals.transitions import STAGE_TRANSITIONS
from governance.core.errors import DomainError
from governance.evidence.models import EvidenceKind
from governance.registry.models import RiskTier, Stage
from governance.web.reauth import REAUTHENTICATE_AFTER, reauthentication_needed


class PasswordConfirmation:
    """A password field on a sign-off form (a decision, a gate acceptance) when the model's
    tier needs a recent sign-in (reauth.py): checked through the authentication backends with
    the HTTP request, so a wrong one is throttled and audited like a sign-in."""

    password_of = None
    http_request = None

    def ask_password(self, password_of, http_request, what: str) -> None:
        self.password_of = password_of
        self.http_request = http_request
        if password_of is not None:
            minutes = int(REAUTHENTICATE_AFTER.total_seconds() // 60)
            self.fields["password"] = forms.CharField(
                label="Your password",
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                help_text=f"{what} on this model need a sign-in from the last {minutes} minutes: confirm it is you.",
                error_messages={"required": "Type your password to confirm it is you."},
            )

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if self.http_request is not None:
            # Through the authentication backends, as a sign-in: a wrong password is audited
            # and counts towards the lockout of this user name and address (django-axes), so
            # a borrowed session cannot be used to guess the password here.
            user = authenticate(self.http_request, username=self.password_of.get_username(), password=password)
            confirmed = user is not None and user.pk == self.password_of.pk
        else:
            confirmed = self.password_of.check_password(password)
        if not confirmed:
            raise forms.ValidationError("That is not your password; nothing was recorded.")
        return password

    @property
    def reauthenticated(self) -> bool:
        """The password was asked for and was right (call after is_valid())."""
        return self.password_of is not None and "password" in getattr(self, "cleaned_data", {})


class DecisionForm(PasswordConfirmation, forms.Form):
    """A decision on a request. Built by `decision_form_for`, which knows the request's terms:
    the roles the user may decide in, the ticket format, and whether to ask for the password."""

    decision = forms.ChoiceField(
        choices=DecisionKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose approve, reject or request changes."},
    )
    role = forms.ChoiceField(choices=[], required=False, help_text="The role you sign in.")
    # No default: a preselected "low" on a regulated model would be signed without a thought.
    risk_class = forms.ChoiceField(
        choices=[("", "Choose…"), *RiskClass.choices],
        label="Risk classification",
        error_messages={"required": "Choose the risk classification of this change."},
    )
    ticket_id = forms.CharField(max_length=100, required=False, label="Ticket ID")
    reason = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        *args,
        roles: list[str] | None = None,
        approve_roles: list[str] | None = None,
        ticket_pattern: str = "",
        ticket_example: str = "",
        password_of=None,
        http_request=None,
        **kwargs,
    ):
        """`roles`: those the user may decide in; `approve_roles`: those with an open slot (the
        others are labelled, and listed last). `password_of`: the user who must type their
        password again (None: no password field), checked through the authentication
        backends with `http_request` (throttled and audited like a sign-in)."""
        super().__init__(*args, **kwargs)
        roles = list(roles or [])
        if approve_roles is not None:
            roles = [r for r in roles if r in approve_roles] + [r for r in roles if r not in approve_roles]
        self.fields["role"].choices = [(r, _role_label(r, approve_roles)) for r in roles]
        self.ticket_pattern = ticket_pattern
        self.ticket_example = ticket_example
        if ticket_pattern:
            field = self.fields["ticket_id"]
            field.required = True
            field.error_messages["required"] = f"A ticket ID is required here. {self._ticket_hint()}"
            field.help_text = self._ticket_hint()
            if ticket_example:
                field.widget.attrs["placeholder"] = ticket_example
        self.ask_password(password_of, http_request, "Decisions")

    def _ticket_hint(self) -> str:
        if self.ticket_example:
            return f"Ticket IDs look like {self.ticket_example} here."
        return f"Ticket IDs match {self.ticket_pattern} here."

    def clean_ticket_id(self) -> str:
        ticket = self.cleaned_data.get("ticket_id", "")
        if ticket and self.ticket_pattern:
            try:
                matches = re.fullmatch(self.ticket_pattern, ticket) is not None
            except re.error:
                raise forms.ValidationError("The policy's ticket format is broken; ask an admin to fix it.") from None
            if not matches:
                raise forms.ValidationError(f"“{ticket}” is not a ticket ID. {self._ticket_hint()}")
        return ticket


def _role_label(role: str, approve_roles: list[str] | None) -> str:
    label = role.replace("_", " ")
    if approve_roles is not None and role not in approve_roles:
        return f"{label} (its slots are filled: reject or request changes only)"
    return label


def decision_form_for(http_request, promotion: PromotionRequest, right: DecisionRight, data=None) -> DecisionForm:
    """The decision form of `promotion` for the signed-in user (the request page and its POST)."""
    needs_password = reauthentication_needed(http_request.session, promotion.version.model.risk_tier)
    return DecisionForm(
        data,
        roles=list(right.decide_roles),
        approve_roles=list(right.approve_roles),
        ticket_pattern=promotion.ticket_pattern,
        ticket_example=promotion.ticket_example,
        password_of=http_request.user if needs_password else None,
        http_request=http_request,
    )


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
    bypass_gates = forms.MultipleChoiceField(
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Gates to bypass (emergency only)",
        help_text="Only the gates the policy lets an emergency bypass; they are re-checked after the promotion.",
    )

    def __init__(self, *args, bypassable: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bypass_gates"].choices = [(g, g) for g in bypassable or []]

    def clean(self):
        data = super().clean()
        if data.get("change_type") == ChangeType.EMERGENCY and self.fields["bypass_gates"].choices:
            if not data.get("bypass_gates"):
                self.add_error("bypass_gates", "Choose the gates this emergency bypasses.")
        return data


def bypassable_gates(policy_data: dict | None) -> list[str]:
    """Every gate some transition of the policy lets an emergency bypass."""
    found: list[str] = []
    for block in ((policy_data or {}).get("transitions") or {}).values():
        for gate in (block.get("emergency") or {}).get("bypassable_gates", []):
            if gate not in found:
                found.append(gate)
    return found


class GateAcceptForm(PasswordConfirmation, forms.Form):
    """Accepting an inconclusive gate (policy `accept_by`): a reason, and a ticket if any."""

    reason = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why you accept this inconclusive outcome."},
        help_text="Why the uncertainty is acceptable here; it is recorded with your name and audited.",
    )
    ticket_id = forms.CharField(max_length=100, required=False, label="Ticket ID")

    def __init__(self, *args, password_of=None, http_request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ask_password(password_of, http_request, "Gate acceptances")

    def sign_off(self) -> dict:
        """The service's keyword arguments (the password is checked here, not passed on)."""
        return {"reason": self.cleaned_data["reason"], "ticket_id": self.cleaned_data["ticket_id"]}


def gate_accept_form_for(http_request, promotion: PromotionRequest, gate_id: str, data=None) -> GateAcceptForm:
    """The Accept form of one inconclusive gate: like a decision, on a regulated or
    safety-critical model it asks for the password when the last sign-in is old."""
    needs_password = http_request is not None and reauthentication_needed(
        http_request.session, promotion.version.model.risk_tier
    )
    return GateAcceptForm(
        data,
        auto_id=f"accept-{gate_id}-%s",
        password_of=http_request.user if needs_password else None,
        http_request=http_request,
    )


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


class ReviewForm(forms.Form):
    """The post-incident review of an emergency change."""

    what_happened = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="What happened")
    root_cause = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Root cause")
    follow_ups = forms.CharField(
        max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Follow-ups", help_text="Owners and dates."
    )
