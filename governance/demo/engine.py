"""Plays the demo scenarios through the services, completing whatever is missing.

Every step is one service call (one transaction): create a model, register a version,
upload one evidence file, save one document, file one request, sign one approval. Each
step first looks whether it already happened, so a second run, or a run after one that
stopped half-way, completes the same demo and adds nothing else. Nothing here writes a
row itself: the demo is also a worked example of the one-door rule.

Gates: a scenario that needs a request's outcome before its next step (draft→staging,
then staging→production) computes that request's gate runs in this process with the
gate service a worker uses (`gate_run_execute`, which claims each run with a conditional
update). When a worker runs too, each gate still gets exactly one outcome; a run the
worker already claimed is waited for, within a bound. Requests the tour leaves to the
worker ("worker" gates) stay awaiting gates until one runs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied
from guardian.shortcuts import get_user_perms

import governance.policies
from governance.accounts.models import Team
from governance.accounts.roles import role_permission
from governance.accounts.services import role_grant, role_revoke, team_create
from governance.approvals.models import PromotionRequest, RequestStatus
from governance.approvals.services import promotion_decide, promotion_request
from governance.core.errors import DomainError
from governance.demo import generators
from governance.demo.scenarios import PASSWORD, PEOPLE, SCENARIOS, TEAMS
from governance.demo.spec import Person, Promotion, Scenario, Version
from governance.evidence.models import Artifact, Document
from governance.evidence.services import document_save, evidence_upload
from governance.gates.models import FINAL_GATE_STATUSES, GateRun
from governance.gates.services import gate_run_execute, gates_finalize
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion, RegisteredModel
from governance.registry.services import model_create, version_register

POLICY_EXAMPLES_DIR = Path(governance.policies.__file__).resolve().parent / "examples"
POLL_SECONDS = 0.2
SAY_WAITING_AFTER_SECONDS = 3.0


class DemoIncomplete(Exception):
    """A step could not finish now (a worker still holds a gate); running again completes it."""


@dataclass
class DemoResult:
    #: Requests whose gates the worker computes ("model vN from→to").
    waiting_for_worker: list[str] = field(default_factory=list)
    #: Where the database differs from the scenarios' expected end state (someone changed it).
    deviations: list[str] = field(default_factory=list)
    #: Scenarios that stopped before their end (run again to complete them).
    incomplete: list[str] = field(default_factory=list)


Say = Callable[[str], None]


def _silent(_: str) -> None:
    pass


def demo_seed(*, say: Say = _silent, gate_timeout: float | None = None) -> DemoResult:
    """Ensure the whole demo: people, policies, teams, roles and every scenario."""
    if gate_timeout is None:
        # A run a worker claimed ends within the hard time limit, or may be claimed again.
        gate_timeout = settings.CELERY_TASK_TIME_LIMIT + 60
    users = people_ensure()
    for path in sorted(POLICY_EXAMPLES_DIR.glob("*.yaml")):
        # Publishing identical content again is a no-op (the same version comes back).
        version = policy_publish(text=path.read_bytes(), reason="shipped example policy (seed_demo)")
        say(f"policy {version.policy.name} v{version.number} {version.sha256[:12]}")
    teams = {spec.name: team_create(actor=None, name=spec.name, display_name=spec.display_name) for spec in TEAMS}
    for line in roles_converge(users=users, teams=teams):
        say(line)
    result = DemoResult()
    for scenario in SCENARIOS:
        player = _ScenarioPlayer(scenario, users=users, teams=teams, gate_timeout=gate_timeout, say=say)
        problem = ""
        try:
            player.play()
        except DemoIncomplete as exc:
            problem = f"{exc}; run seed_demo again"
        except (DomainError, PermissionDenied) as exc:  # e.g. a demo role revoked by hand
            problem = str(exc)
        if problem:
            result.incomplete.append(f"{scenario.model}: {problem}")
            say(f"{scenario.model}: stopped after {player.steps} step(s): {problem}")
        else:
            done = f"{player.steps} step(s) completed now" if player.steps else "already complete"
            say(f"{scenario.model}: {scenario.summary} ({done})")
    waiting, deviations = demo_deviations()
    result.waiting_for_worker, result.deviations = waiting, deviations
    return result


# --- people and roles --------------------------------------------------------------------


def people_ensure() -> dict:
    """The demo users, created once with the demo password (never reset afterwards)."""
    User = get_user_model()
    users = {}
    hashed = None  # one PBKDF2 hash (~0.5 s) for all: they share the published demo password
    for person in PEOPLE:
        user, created = User.objects.get_or_create(
            username=person.username,
            defaults={
                "email": f"{person.username}@demo.example",
                "first_name": person.title.split(" (")[0],
                "is_staff": person.staff,
                "is_superuser": person.staff,
            },
        )
        if created:
            hashed = hashed or make_password(PASSWORD)
            user.password = hashed
            user.save(update_fields=["password"])
        users[person.username] = user
    return users


def team_roles_held(user, team: Team) -> set[str]:
    """Roles granted to the user on the team itself (not through superuser status)."""
    prefix = role_permission("")
    return {codename[len(prefix) :] for codename in get_user_perms(user, team) if codename.startswith(prefix)}


def roles_converge(*, users: dict, teams: dict[str, Team]) -> list[str]:
    """Give each demo person exactly their roles on the demo teams (grant or revoke).

    Earlier demos gave everybody every role; revoking the extra ones makes an old demo
    database look like a new one. Roles on other teams, or on single models, are left alone.
    """
    lines = []
    for person in PEOPLE:
        user = users[person.username]
        revoked: dict[str, list[str]] = {}  # team -> roles taken back
        for name, team in teams.items():
            wanted = set(person.roles.get(name, ()))
            held = team_roles_held(user, team)
            for role in sorted(wanted - held):
                role_grant(actor=None, user=user, role=role, team=team)
            for role in sorted(held - wanted):
                role_revoke(actor=None, user=user, role=role, team=team)
                revoked.setdefault(name, []).append(role)
        if revoked:
            count = sum(len(roles) for roles in revoked.values())
            lines.append(
                f"revoked {count} role(s) from {person.username} on {', '.join(revoked)}: "
                "the demo organisation does not give them"
            )
    return lines


def person_summary(person: Person) -> str:
    if person.staff:
        return f"{person.title}: staff (teams, roles, policies; sees every model)"
    by_role: dict[str, list[str]] = {}
    for team, roles in person.roles.items():
        for role in roles:
            by_role.setdefault(role, []).append(team)
    grants = "; ".join(f"{role} on {', '.join(teams)}" for role, teams in by_role.items())
    return f"{person.title}: {grants}"


# --- scenarios ---------------------------------------------------------------------------


class _ScenarioPlayer:
    def __init__(self, scenario: Scenario, *, users: dict, teams: dict[str, Team], gate_timeout: float, say: Say):
        self.scenario = scenario
        self.users = users
        self.teams = teams
        self.gate_timeout = gate_timeout
        self.say = say
        self.steps = 0

    def play(self) -> None:
        scenario = self.scenario
        model = RegisteredModel.objects.filter(name=scenario.model).first()
        if model is None:
            model = model_create(
                user=self.users[scenario.registered_by],
                name=scenario.model,
                team=self.teams[scenario.team],
                risk_tier=scenario.risk_tier,
                domain=scenario.domain,
                description=scenario.description,
            )
            self.steps += 1
        for spec in scenario.versions:
            version = self._version(model, spec)
            self._evidence(version, spec)
            self._documents(version, spec)
            from_stage = "draft"
            for promotion in spec.promotions:
                if not self._promotion(version, from_stage, promotion):
                    break
                from_stage = promotion.to_stage

    def _version(self, model: RegisteredModel, spec: Version) -> ModelVersion:
        version = ModelVersion.objects.filter(model=model, version=spec.number).select_related("model").first()
        if version is not None:
            return version
        name = model.name
        binary = generators.model_binary(name, spec.number)
        version = version_register(
            user=self.users[self.scenario.registered_by],
            model=model,
            version=spec.number,
            artifact_uri=f"s3://models/{name}/v{spec.number}/model.bin",
            artifact_sha256=hashlib.sha256(binary).hexdigest(),
            code_hash=hashlib.sha1(f"{name}-{spec.number}".encode()).hexdigest(),
            data_snapshot_id=f"{name}-snapshot-2026-{spec.number:02d}",
            training_config=spec.config,
            seed=1000 + spec.number,
            framework=spec.framework,
        )
        self.steps += 1
        return version

    def _evidence(self, version: ModelVersion, spec: Version) -> None:
        binary = (
            "attachment",
            "model.bin",
            lambda: generators.model_binary(version.model.name, spec.number),
        )
        present = set(Artifact.objects.filter(version=version).values_list("kind", "original_name"))
        for kind, filename, build in [binary, *((u.kind, u.filename, u.build) for u in spec.evidence)]:
            if (kind, filename) in present:
                continue
            with tempfile.TemporaryDirectory(prefix="demo-evidence-") as workdir:
                path = os.path.join(workdir, filename)
                with open(path, "wb") as handle:
                    handle.write(build())
                evidence_upload(
                    user=self.users[self.scenario.uploaded_by],
                    version=version,
                    kind=kind,
                    path=path,
                    original_name=filename,
                )
            self.steps += 1

    def _documents(self, version: ModelVersion, spec: Version) -> None:
        present = set(Document.objects.filter(version=version).values_list("kind", flat=True))
        for kind, fields in spec.documents.items():
            if kind in present:
                continue
            document_save(
                user=self.users[self.scenario.uploaded_by],
                version=version,
                kind=kind,
                fields=fields,
                content=f"# {kind.replace('_', ' ').title()}\n\nSee the structured fields above.\n",
            )
            self.steps += 1

    def _promotion(self, version: ModelVersion, from_stage: str, promotion: Promotion) -> bool:
        """File, compute and sign one promotion as far as the scenario says. True once promoted."""
        request = promotion_latest(version, from_stage, promotion.to_stage)
        if request is None:
            version.refresh_from_db(fields=["stage"])
            if version.stage != from_stage:
                self.say(f"  {version} is {version.stage}, not {from_stage}: left as it is")
                return False
            request = promotion_request(
                user=self.users[self.scenario.registered_by],
                version=version,
                to_stage=promotion.to_stage,
                justification=promotion.justification
                or f"Promote v{version.version} to {promotion.to_stage}: evidence attached by CI.",
                ticket_id=promotion.ticket or f"CHG-{1000 + version.pk}",
                change_type=promotion.change_type,
            )
            self.steps += 1
        if request.is_open and promotion.gates == "in_process":
            gates_settle(request_id=request.pk, timeout=self.gate_timeout, say=self.say)
        for approval in promotion.approvals:
            request.refresh_from_db()
            user = self.users[approval.username]
            if not request.is_open or request.decisions.filter(user=user).exists():
                continue
            promotion_decide(
                user=user,
                request=request,
                decision="approve",
                reason=f"Reviewed the evidence and gate results as {approval.role.replace('_', ' ')}.",
                risk_class="low" if self.scenario.risk_tier in ("low", "medium") else "medium",
                ticket_id=f"REV-{request.pk}",
                role=approval.role,
            )
            self.steps += 1
        request.refresh_from_db()
        return request.status == RequestStatus.PROMOTED


def promotion_latest(version: ModelVersion, from_stage: str, to_stage: str) -> PromotionRequest | None:
    return (
        PromotionRequest.objects.filter(version=version, from_stage=from_stage, to_stage=to_stage)
        .order_by("-requested_at", "-pk")
        .first()
    )


def gates_settle(*, request_id: int, timeout: float, say: Say = _silent) -> None:
    """Give every gate of the request its outcome now, then let the request move on.

    Runs each unfinished gate run in this process through `gate_run_execute`, the function
    the worker's task calls: its conditional claim lets exactly one of us compute a run.
    A run a worker is computing is waited for; one whose worker was lost is claimed again
    after the task time limit, as a redelivered task would.
    """
    started = time.monotonic()
    told = False
    while True:
        unfinished = GateRun.objects.current().filter(request_id=request_id).exclude(status__in=FINAL_GATE_STATUSES)
        for run_id in list(unfinished.values_list("pk", flat=True)):
            gate_run_execute(run_id=run_id)
        if not unfinished.exists():
            break
        waited = time.monotonic() - started
        if waited > timeout:
            raise DemoIncomplete(f"a worker still computes gates of request #{request_id} after {timeout:.0f} s")
        if not told and waited > SAY_WAITING_AFTER_SECONDS:
            say(f"  waiting for a worker to finish the gates of request #{request_id}")
            told = True
        time.sleep(POLL_SECONDS)
    gates_finalize(request_id=request_id)  # idempotent: the worker's final step may come too


# --- expected end state ------------------------------------------------------------------


def demo_deviations() -> tuple[list[str], list[str]]:
    """(requests waiting for a worker, differences from the scenarios' expected end state)."""
    waiting, deviations = [], []
    for scenario in SCENARIOS:
        model = RegisteredModel.objects.filter(name=scenario.model).first()
        if model is None:
            deviations.append(f"{scenario.model}: missing")
            continue
        versions = {v.version: v for v in ModelVersion.objects.filter(model=model).select_related("model")}
        for spec in scenario.versions:
            version = versions.get(spec.number)
            if version is None:
                deviations.append(f"{scenario.model} v{spec.number}: missing")
                continue
            if version.stage != spec.expect_stage:
                deviations.append(f"{version}: {version.stage}, expected {spec.expect_stage}")
            from_stage = "draft"
            for promotion in spec.promotions:
                step = f"{version} {from_stage}→{promotion.to_stage}"
                request = promotion_latest(version, from_stage, promotion.to_stage)
                if request is None:
                    deviations.append(f"{step}: no request")
                elif request.status == RequestStatus.AWAITING_GATES and promotion.gates == "worker":
                    waiting.append(f"{step} (request #{request.pk})")
                elif request.status != promotion.expect:
                    deviations.append(f"{step}: {request.status}, expected {promotion.expect}")
                from_stage = promotion.to_stage
    return waiting, deviations
