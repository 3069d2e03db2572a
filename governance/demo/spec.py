"""The shape of the demo, as data: people, teams, and scenarios the engine plays.

A scenario says what a pipeline and its approvers did to one model: which versions were
registered, what evidence and documents each one carries, which promotions were filed,
who signed them, and how each request should end. `scenarios.py` holds the content;
`engine.py` plays it through the services, completing whatever of it is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

#: How a request's gates reach their outcome while the demo is seeded.
#: "in_process": computed now, in the seeding process (waiting for a worker that already
#: claimed one), because the next step needs the result.
#: "worker": left to the Celery worker; without one the request stays awaiting gates.
GateMode = Literal["in_process", "worker"]


@dataclass(frozen=True)
class Person:
    username: str
    title: str  # shown in the login list and as the user's first name
    #: team name -> roles held on that team (nobody holds a role on every team by default)
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    staff: bool = False


@dataclass(frozen=True)
class TeamSpec:
    name: str
    display_name: str


@dataclass(frozen=True)
class Upload:
    """One evidence file: `build` returns its bytes (deterministic, see generators.py)."""

    kind: str
    filename: str
    build: Callable[[], bytes]


@dataclass(frozen=True)
class Approve:
    username: str
    role: str


@dataclass(frozen=True)
class Promotion:
    to_stage: str
    justification: str = ""
    approvals: tuple[Approve, ...] = ()
    gates: GateMode = "in_process"
    change_type: str = "standard"  # "emergency" bypasses what the policy allows; needs `ticket`
    ticket: str = ""  # the incident ticket of an emergency (default: a CHG- change ticket)
    #: The request's status once the scenario has played (for "worker" gates: once a
    #: worker has computed them; until then it is awaiting_gates).
    expect: str = "promoted"

    def __post_init__(self) -> None:
        if self.gates == "worker" and self.approvals:
            raise ValueError("sign-offs need the gates' outcome first: use gates='in_process'")


@dataclass(frozen=True)
class Version:
    number: int
    framework: str
    config: dict
    evidence: tuple[Upload, ...]
    documents: dict[str, dict[str, str]]
    promotions: tuple[Promotion, ...] = ()
    #: The version's stage once every scenario has played.
    expect_stage: str = "draft"


@dataclass(frozen=True)
class Scenario:
    model: str
    team: str
    risk_tier: str
    domain: str
    description: str
    versions: tuple[Version, ...]
    registered_by: str = "mlops"  # the CI pipeline's user: registers versions, files requests
    uploaded_by: str = "owner"  # attaches evidence and writes the documents
    summary: str = ""  # one line printed by seed_demo
