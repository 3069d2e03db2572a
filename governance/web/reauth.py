"""Asking for the password again before a decision on a high-stakes model.

A decision on a regulated or safety-critical model is signed by someone who proved who they
are recently: when the session's last authentication is older than REAUTHENTICATE_AFTER,
the decision form asks for the password (forms.DecisionForm) and a correct one counts as a
fresh authentication. The time of the last authentication is stored in the session at
login (signals.py) and on each such confirmation; a session without it is treated as old.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from governance.registry.models import RiskTier

SESSION_KEY = "governance_authenticated_at"  # a POSIX timestamp (JSON-serializable)
REAUTHENTICATE_AFTER = timedelta(minutes=10)
REAUTHENTICATION_TIERS = frozenset({RiskTier.REGULATED, RiskTier.SAFETY_CRITICAL})


def authentication_record(session, now: datetime | None = None) -> None:
    """The user just proved who they are (login, or the password on a decision form)."""
    session[SESSION_KEY] = (now or timezone.now()).timestamp()


def authenticated_at(session) -> datetime | None:
    value = session.get(SESSION_KEY)
    try:
        return datetime.fromtimestamp(float(value), tz=UTC) if value is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def reauthentication_needed(session, risk_tier: str, now: datetime | None = None) -> bool:
    """True when a decision on a model of `risk_tier` needs the password first."""
    if risk_tier not in REAUTHENTICATION_TIERS:
        return False
    last = authenticated_at(session)
    return last is None or (now or timezone.now()) - last > REAUTHENTICATE_AFTER
