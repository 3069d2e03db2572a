"""Demo data: teams, one user per role, the shipped policies and the worked examples.

Idempotent: running it again changes nothing that exists (users, roles and policies are
ensured; the example models are created once). Everything goes through the services, so
the audit trail of the demo is as real as any other.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from governance.accounts.models import Team
from governance.accounts.permissions import roles_for_model
from governance.accounts.services import role_grant, team_create
from governance.approvals.models import PromotionRequest
from governance.approvals.services import promotion_decide, promotion_request
from governance.evidence import demo_data as demo
from governance.evidence.services import document_save, evidence_upload
from governance.gates.models import GateRun, GateStatus
from governance.gates.services import gate_run_execute, gates_finalize
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion, RegisteredModel
from governance.registry.services import model_create, version_register

PASSWORD = "demo-password-2026"
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "policies" / "examples"

# username → (role, description)
PEOPLE = {
    "owner": ("model_owner", "Model owner"),
    "lead": ("reviewer", "Tech lead (reviewer)"),
    "risk": ("risk_officer", "Risk officer"),
    "compliance": ("compliance_officer", "Compliance officer"),
    "mlops": ("mlops", "MLOps engineer (files requests from CI)"),
    "product": ("product_owner", "Product owner"),
    "clinician": ("domain_expert", "Senior clinician (domain expert)"),
    "auditor": ("auditor", "Auditor (read-only)"),
}

TEAMS = [
    ("credit-risk", "Credit risk modelling"),
    ("personalisation", "Personalisation"),
    ("radiology-ai", "Radiology AI"),
    ("mobility", "Mobility"),
    ("payments-fraud", "Payments fraud"),
]


class Command(BaseCommand):
    help = "Create demo teams, users (one per role), policies and the worked-example models."

    def handle(self, *args, **options):
        users = self._people()
        for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
            version = policy_publish(text=path.read_bytes(), reason="shipped example policy (seed_demo)")
            self.stdout.write(f"policy {version.policy.name} v{version.number} {version.sha256[:12]}")
        teams = {name: team_create(actor=None, name=name, display_name=display) for name, display in TEAMS}
        for username, (role, _) in PEOPLE.items():
            for team in teams.values():
                self._ensure_role(users[username], role, team)
        if RegisteredModel.objects.filter(name="credit-risk-scorecard").exists():
            self.stdout.write("demo models exist already; nothing else to do")
        else:
            self._credit(users, teams["credit-risk"])
            self._recommender(users, teams["personalisation"])
            self._imaging(users, teams["radiology-ai"])
            self._eta(users, teams["mobility"])
            self._fraud(users, teams["payments-fraud"])
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        self.stdout.write(f"  {'admin':<11} staff administrator (teams, roles, policies)")
        for username, (_, description) in PEOPLE.items():
            self.stdout.write(f"  {username:<11} {description}")

    # --- people -----------------------------------------------------------------------

    def _people(self) -> dict:
        User = get_user_model()
        users = {}
        for username in [*PEOPLE, "admin"]:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@demo.example",
                    "is_staff": username == "admin",
                    "is_superuser": username == "admin",
                },
            )
            if created:
                user.set_password(PASSWORD)
                user.first_name = (PEOPLE.get(username) or ("", "Administrator"))[1].split(" (")[0]
                user.save()
            users[username] = user
        return users

    def _ensure_role(self, user, role: str, team: Team) -> None:
        from governance.accounts.models import TeamUserObjectPermission

        if not TeamUserObjectPermission.objects.filter(
            user=user, content_object=team, permission__codename=f"role_{role}"
        ).exists():
            role_grant(actor=None, user=user, role=role, team=team)

    # --- building blocks ----------------------------------------------------------------

    def _upload(self, user, version: ModelVersion, kind: str, data: bytes, name: str) -> None:
        import tempfile

        with tempfile.NamedTemporaryFile(suffix="-" + name) as handle:
            handle.write(data)
            handle.flush()
            evidence_upload(user=user, version=version, kind=kind, path=handle.name, original_name=name)

    def _version(self, user, model: RegisteredModel, number: int, *, framework: str, config: dict) -> ModelVersion:
        import hashlib

        binary = demo.model_binary(model.name, number)
        version = version_register(
            user=user,
            model=model,
            artifact_uri=f"s3://models/{model.name}/v{number}/model.bin",
            artifact_sha256=hashlib.sha256(binary).hexdigest(),
            code_hash=hashlib.sha1(f"{model.name}-{number}".encode()).hexdigest(),
            data_snapshot_id=f"{model.name}-snapshot-2026-{number:02d}",
            training_config=config,
            seed=1000 + number,
            framework=framework,
        )
        self._upload(user, version, "attachment", binary, "model.bin")
        return version

    def _documents(self, user, version: ModelVersion, docs: dict) -> None:
        for kind, fields in docs.items():
            document_save(
                user=user,
                version=version,
                kind=kind,
                fields=fields,
                content=f"# {kind.replace('_', ' ').title()}\n\nSee the structured fields above.\n",
            )

    def _run_gates_now(self, request: PromotionRequest) -> None:
        """History is computed in-process so the demo has results before any worker runs."""
        for run_id in GateRun.objects.filter(request=request, status=GateStatus.PENDING).values_list("pk", flat=True):
            gate_run_execute(run_id=run_id)
        gates_finalize(request_id=request.pk)

    def _promote(
        self,
        users,
        version: ModelVersion,
        to_stage: str,
        approvers: list[str],
        *,
        run_now: bool = True,
        justification: str = "",
    ) -> PromotionRequest:
        request = promotion_request(
            user=users["mlops"],
            version=ModelVersion.objects.get(pk=version.pk),
            to_stage=to_stage,
            justification=justification or f"Promote v{version.version} to {to_stage}: evidence attached by CI.",
            ticket_id=f"CHG-{1000 + version.pk}",
        )
        if run_now:
            self._run_gates_now(request)
        for username in approvers:
            request.refresh_from_db()
            if not request.is_open:
                break
            model = version.model
            held = roles_for_model(users[username], model)
            role = next(item["role"] for item in request.required_approvals if item["role"] in held)
            promotion_decide(
                user=users[username],
                request=request,
                decision="approve",
                reason=f"Reviewed the evidence and gate results as {role.replace('_', ' ')}.",
                risk_class="low" if model.risk_tier in ("low", "medium") else "medium",
                ticket_id=f"REV-{request.pk}",
                role=role,
            )
        request.refresh_from_db()
        return request

    # --- worked examples ----------------------------------------------------------------

    def _credit(self, users, team):
        owner = users["owner"]
        model = model_create(
            user=users["mlops"],
            name="credit-risk-scorecard",
            team=team,
            risk_tier="regulated",
            domain="consumer lending",
            description="Probability of default for unsecured consumer loans (bank, regulated).",
        )
        for number, skill in ((1, 1.15), (2, 1.2), (3, 1.26)):
            version = self._version(
                users["mlops"],
                model,
                number,
                framework="xgboost 2.1",
                config={"max_depth": 5, "eta": 0.08, "rounds": 400 + 50 * number},
            )
            self._upload(
                owner,
                version,
                "predictions",
                demo.credit_predictions(seed=number, candidate_skill=skill, baseline_skill=skill - 0.05),
                "holdout_predictions.csv",
            )
            self._upload(owner, version, "sbom", demo.sbom(demo.STANDARD_COMPONENTS), "sbom.cdx.json")
            self._upload(
                owner,
                version,
                "metrics",
                demo.metrics(auc=0.78 + 0.01 * number, ks=0.41 + 0.01 * number),
                "metrics.json",
            )
            self._upload(owner, version, "feature_reference", demo.credit_features(seed=10), "features_reference.csv")
            self._upload(
                owner, version, "feature_current", demo.credit_features(seed=10 + number), "features_current.csv"
            )
            self._documents(
                owner,
                version,
                demo.documents_for(
                    model.name,
                    "Rank loan applicants by probability of default.",
                    human_in_the_loop="Declines are reviewed by an underwriter before the decision is final.",
                ),
            )
            self._promote(users, version, "staging", ["lead"])
            if number < 3:
                self._promote(users, version, "production", ["owner", "risk", "compliance"])
        # v3: waiting for the three sign-offs (gates computed by the worker).
        self._promote(
            users,
            ModelVersion.objects.get(model=model, version=3),
            "production",
            [],
            run_now=False,
            justification="Quarterly refresh: AUC +0.01, parity unchanged.",
        )

    def _recommender(self, users, team):
        owner = users["owner"]
        model = model_create(
            user=users["mlops"],
            name="ecommerce-recommender",
            team=team,
            risk_tier="high",
            domain="e-commerce",
            description="Ranks products on the home page; optimises click-through.",
        )
        v1 = self._version(
            users["mlops"], model, 1, framework="pytorch 2.13", config={"embedding_dim": 64, "epochs": 8}
        )
        self._upload(
            owner, v1, "predictions", demo.recommender_predictions(seed=21, n=12000, lift=0.8), "offline_eval.csv"
        )
        self._upload(owner, v1, "latency", demo.latency_samples(seed=21, median_ms=45), "latency.csv")
        self._documents(
            owner,
            v1,
            demo.documents_for(
                model.name,
                "Rank products for logged-in shoppers.",
                human_in_the_loop="Merchandisers can pin or ban items.",
            ),
        )
        self._promote(users, v1, "staging", ["lead"])
        self._promote(users, v1, "production", ["owner", "product"])
        # v2: a bigger model that is too slow; its request fails the p95 latency gate.
        v2 = self._version(
            users["mlops"], model, 2, framework="pytorch 2.13", config={"embedding_dim": 256, "epochs": 12}
        )
        self._upload(
            owner, v2, "predictions", demo.recommender_predictions(seed=22, n=12000, lift=1.0), "offline_eval.csv"
        )
        self._upload(owner, v2, "latency", demo.latency_samples(seed=22, median_ms=105), "latency.csv")
        self._documents(
            owner,
            v2,
            demo.documents_for(
                model.name,
                "Rank products for logged-in shoppers.",
                human_in_the_loop="Merchandisers can pin or ban items.",
            ),
        )
        self._promote(users, v2, "staging", ["lead"])
        self._promote(users, v2, "production", [], justification="Larger embeddings: +4% offline CTR.")

    def _imaging(self, users, team):
        owner = users["owner"]
        model = model_create(
            user=users["mlops"],
            name="chest-xray-triage",
            team=team,
            risk_tier="safety_critical",
            domain="radiology",
            description="Flags chest X-rays with urgent findings for priority reading. Safety critical: two-person rule.",
        )
        components = [*demo.STANDARD_COMPONENTS, ("torch", "2.13.0", "BSD-3-Clause")]
        for number in (1, 2):
            version = self._version(
                users["mlops"],
                model,
                number,
                framework="pytorch 2.13",
                config={"backbone": "densenet121", "epochs": 30 + number},
            )
            self._upload(
                owner,
                version,
                "predictions",
                demo.imaging_predictions(seed=30 + number, sensitivity=0.975, specificity=0.935),
                "locked_test_set.csv",
            )
            self._upload(owner, version, "sbom", demo.sbom(components), "sbom.cdx.json")
            self._documents(
                owner,
                version,
                demo.documents_for(
                    model.name,
                    "Prioritise the radiologist's worklist; never a diagnosis.",
                    human_in_the_loop="Every study is read by a radiologist; the model only reorders the worklist.",
                ),
            )
            self._promote(users, version, "staging", ["lead"])
            if number == 1:
                self._promote(users, version, "production", ["clinician", "owner"])
        self._promote(
            users,
            ModelVersion.objects.get(model=model, version=2),
            "production",
            ["clinician"],
            run_now=True,
            justification="Retrained with site C data; sensitivity 0.975 on the locked set.",
        )

    def _eta(self, users, team):
        owner = users["owner"]
        model = model_create(
            user=users["mlops"],
            name="ridesharing-eta",
            team=team,
            risk_tier="medium",
            domain="mobility",
            description="Predicts trip duration (minutes) shown to riders before booking.",
        )
        for number in (1, 2, 3):
            version = self._version(
                users["mlops"],
                model,
                number,
                framework="lightgbm 4.5",
                config={"num_leaves": 63, "learning_rate": 0.05},
            )
            self._upload(owner, version, "predictions", demo.eta_predictions(seed=40 + number), "eta_eval.csv")
            self._upload(owner, version, "latency", demo.latency_samples(seed=40 + number, median_ms=18), "latency.csv")
            self._upload(owner, version, "feature_reference", demo.feature_table(seed=40), "features_reference.csv")
            self._upload(
                owner,
                version,
                "feature_current",
                demo.feature_table(seed=50 + number, shift=0.6 if number == 3 else 0.0),
                "features_current.csv",
            )
            self._upload(owner, version, "cost", demo.cost_report(total=3.1, predictions=100_000), "cost.json")
            self._documents(
                owner,
                version,
                demo.documents_for(
                    model.name,
                    "Show riders an arrival estimate.",
                    human_in_the_loop="None at prediction time; estimates are audited weekly.",
                    complete=number != 3,
                ),
            )
            if number < 3:
                self._promote(users, version, "staging", ["lead"])
                self._promote(users, version, "production", ["lead", "owner", "product"])
        # v3: draft, waiting for the tech lead (its drift and documents would fail production).
        self._promote(
            users,
            ModelVersion.objects.get(model=model, version=3),
            "staging",
            [],
            run_now=False,
            justification="New traffic features.",
        )

    def _fraud(self, users, team):
        owner = users["owner"]
        model = model_create(
            user=users["mlops"],
            name="fraud-detector",
            team=team,
            risk_tier="high",
            domain="payments",
            description="Scores card transactions for fraud; blocks above the threshold.",
        )
        for number, gain in ((1, 1.2), (2, 1.6)):
            version = self._version(
                users["mlops"], model, number, framework="xgboost 2.1", config={"max_depth": 7, "scale_pos_weight": 40}
            )
            self._upload(
                owner,
                version,
                "predictions",
                demo.fraud_predictions(seed=60 + number, recall_gain=gain),
                "backtest.csv",
            )
            self._documents(
                owner,
                version,
                demo.documents_for(
                    model.name,
                    "Block likely fraudulent card transactions.",
                    human_in_the_loop="Blocked customers can call support; analysts review blocks daily.",
                ),
            )
            self._promote(users, version, "staging", ["lead"])
            if number == 1:
                self._promote(users, version, "production", ["owner", "risk"])
        self._promote(
            users,
            ModelVersion.objects.get(model=model, version=2),
            "production",
            [],
            run_now=False,
            justification="Recall +0.5 points; expected cost per transaction lower.",
        )
