"""The demo's content: its organisation and the worked examples of the README tour.

Each person holds the roles a real organisation would give them, on the teams they work
with: the risk officer sees lending and payments, the clinician sees radiology, the
auditor reviews lending and payments only. Anybody else's model is a 404 to them.
"""

from __future__ import annotations

from functools import partial

from governance.demo import generators as gen
from governance.demo.spec import Approve, Person, Promotion, Scenario, TeamSpec, Upload, Version

PASSWORD = "demo-password-2026"

TEAMS = (
    TeamSpec("credit-risk", "Credit risk modelling"),
    TeamSpec("personalisation", "Personalisation"),
    TeamSpec("radiology-ai", "Radiology AI"),
    TeamSpec("mobility", "Mobility"),
    TeamSpec("payments-fraud", "Payments fraud"),
)
ALL_TEAMS = tuple(team.name for team in TEAMS)
FINANCE = ("credit-risk", "payments-fraud")

PEOPLE = (
    Person("admin", "Administrator", staff=True),  # teams, roles, policies; fills no slot
    Person("owner", "Model owner", {team: ("model_owner",) for team in ALL_TEAMS}),
    Person("lead", "Tech lead (reviewer)", {team: ("reviewer",) for team in ALL_TEAMS}),
    Person("risk", "Risk officer", {team: ("risk_officer",) for team in FINANCE}),
    Person(
        "compliance",
        "Compliance officer",
        {team: ("compliance_officer",) for team in (*FINANCE, "radiology-ai")},
    ),
    Person("mlops", "MLOps engineer (files requests from CI)", {team: ("mlops",) for team in ALL_TEAMS}),
    Person("product", "Product owner", {team: ("product_owner",) for team in ("personalisation", "mobility")}),
    Person("clinician", "Senior clinician (domain expert)", {"radiology-ai": ("domain_expert",)}),
    Person("auditor", "Auditor (read-only)", {team: ("auditor",) for team in FINANCE}),
)

# --- shared pieces ----------------------------------------------------------------------

LEAD_REVIEW = (Approve("lead", "reviewer"),)


def _to_staging(**extra) -> Promotion:
    return Promotion("staging", approvals=LEAD_REVIEW, **extra)


def _to_production(**extra) -> tuple[Promotion, Promotion]:
    """The usual path: the tech lead's review into staging, then a request for production."""
    return (_to_staging(), Promotion("production", **extra))


def _documents(model: str, purpose: str, human_in_the_loop: str, *, complete: bool = True) -> dict:
    return gen.documents_for(model, purpose, human_in_the_loop=human_in_the_loop, complete=complete)


# --- credit-risk-scorecard: v2 in production, v3 waits for three sign-offs -----------------

CREDIT_DOCS = _documents(
    "credit-risk-scorecard",
    "Rank loan applicants by probability of default.",
    "Declines are reviewed by an underwriter before the decision is final.",
)
CREDIT_SIGN_OFFS = (
    Approve("owner", "model_owner"),
    Approve("risk", "risk_officer"),
    Approve("compliance", "compliance_officer"),
)


def _credit_version(number: int, skill: float, promotions: tuple[Promotion, ...], stage: str) -> Version:
    return Version(
        number=number,
        framework="xgboost 2.1",
        config={"max_depth": 5, "eta": 0.08, "rounds": 400 + 50 * number},
        evidence=(
            Upload(
                "predictions",
                "holdout_predictions.csv",
                partial(gen.credit_predictions, seed=number, candidate_skill=skill, baseline_skill=skill - 0.1),
            ),
            Upload("sbom", "sbom.cdx.json", partial(gen.sbom, gen.STANDARD_COMPONENTS)),
            Upload(
                "metrics",
                "metrics.json",
                partial(gen.credit_metrics, seed=number, candidate_skill=skill, baseline_skill=skill - 0.1),
            ),
            Upload("feature_reference", "features_reference.csv", partial(gen.credit_features, seed=10)),
            Upload("feature_current", "features_current.csv", partial(gen.credit_features, seed=10 + number)),
        ),
        documents=CREDIT_DOCS,
        promotions=promotions,
        expect_stage=stage,
    )


CREDIT = Scenario(
    model="credit-risk-scorecard",
    team="credit-risk",
    risk_tier="regulated",
    domain="consumer lending",
    description="Probability of default for unsecured consumer loans (bank, regulated).",
    summary="v2 in production; v3 waits for model owner, risk and compliance sign-offs",
    versions=(
        _credit_version(1, 1.15, _to_production(approvals=CREDIT_SIGN_OFFS), "deprecated"),
        _credit_version(2, 1.2, _to_production(approvals=CREDIT_SIGN_OFFS), "production"),
        _credit_version(
            3,
            1.26,
            _to_production(
                justification="Quarterly refresh: AUC +0.01, parity unchanged.",
                gates="worker",
                expect="awaiting_approvals",
            ),
            "staging",
        ),
    ),
)

# --- ecommerce-recommender: v2 is too slow (p95 187 ms > 120 ms) ---------------------------

RECOMMENDER_DOCS = _documents(
    "ecommerce-recommender", "Rank products for logged-in shoppers.", "Merchandisers can pin or ban items."
)

RECOMMENDER_SIGN_OFFS = (Approve("owner", "model_owner"), Approve("product", "product_owner"))


def _recommender_version(
    number: int, config: dict, lift: float, median_ms: int, promotions: tuple[Promotion, ...], stage: str
) -> Version:
    return Version(
        number=number,
        framework="pytorch 2.13",
        config=config,
        evidence=(
            Upload(
                "predictions",
                "offline_eval.csv",
                partial(gen.recommender_predictions, seed=20 + number, n=12000, lift=lift),
            ),
            Upload("latency", "latency.csv", partial(gen.latency_samples, seed=20 + number, median_ms=median_ms)),
        ),
        documents=RECOMMENDER_DOCS,
        promotions=promotions,
        expect_stage=stage,
    )


RECOMMENDER = Scenario(
    model="ecommerce-recommender",
    team="personalisation",
    risk_tier="high",
    domain="e-commerce",
    description="Ranks products on the home page; optimises click-through.",
    summary="v2 failed its gates: p95 latency 187 ms over the 120 ms budget; v3 went out as an emergency hotfix",
    versions=(
        _recommender_version(
            1,
            {"embedding_dim": 64, "epochs": 8},
            0.8,
            45,
            _to_production(approvals=RECOMMENDER_SIGN_OFFS),
            "deprecated",
        ),
        # A bigger model: median 105 ms, p95 about 187 ms.
        _recommender_version(
            2,
            {"embedding_dim": 256, "epochs": 12},
            1.0,
            105,
            _to_production(justification="Larger embeddings: +4% offline CTR.", expect="gates_failed"),
            "staging",
        ),
        # A hotfix for a broken feature, shipped as an emergency: the offline CTR lift is
        # bypassed for a day (the policy allows it), a post-incident review is due in 3 days.
        _recommender_version(
            3,
            {"embedding_dim": 64, "epochs": 8, "hotfix": "category feature"},
            0.8,
            44,
            _to_production(
                justification="Category feature broken since 09:10; v3 fixes it. CTR lift cannot be shown offline today.",
                change_type="emergency",
                ticket="INC-2217",
                approvals=RECOMMENDER_SIGN_OFFS,
            ),
            "production",
        ),
    ),
)

# --- chest-xray-triage: the two-person rule, half signed -----------------------------------

IMAGING_DOCS = _documents(
    "chest-xray-triage",
    "Prioritise the radiologist's worklist; never a diagnosis.",
    "Every study is read by a radiologist; the model only reorders the worklist.",
)
IMAGING_COMPONENTS = [*gen.STANDARD_COMPONENTS, ("torch", "2.13.0", "BSD-3-Clause")]


def _imaging_version(number: int, promotions: tuple[Promotion, ...], stage: str) -> Version:
    return Version(
        number=number,
        framework="pytorch 2.13",
        config={"backbone": "densenet121", "epochs": 30 + number},
        evidence=(
            Upload(
                "predictions",
                "locked_test_set.csv",
                partial(gen.imaging_predictions, seed=30 + number, sensitivity=0.975, specificity=0.935),
            ),
            Upload("sbom", "sbom.cdx.json", partial(gen.sbom, IMAGING_COMPONENTS)),
        ),
        documents=IMAGING_DOCS,
        promotions=promotions,
        expect_stage=stage,
    )


IMAGING = Scenario(
    model="chest-xray-triage",
    team="radiology-ai",
    risk_tier="safety_critical",
    domain="radiology",
    description="Flags chest X-rays with urgent findings for priority reading. Safety critical: two-person rule.",
    summary="v2 waits for the two-person rule: the senior clinician signed, the model owner not yet",
    versions=(
        _imaging_version(
            1,
            _to_production(approvals=(Approve("clinician", "domain_expert"), Approve("owner", "model_owner"))),
            "production",
        ),
        _imaging_version(
            2,
            _to_production(
                justification="Retrained with site C data; sensitivity 0.975 on the locked set.",
                approvals=(Approve("clinician", "domain_expert"),),
                expect="awaiting_approvals",
            ),
            "staging",
        ),
    ),
)

# --- ridesharing-eta: v2 in production, v3 waits for the tech lead ----------------------------


def _eta_version(number: int, promotions: tuple[Promotion, ...], stage: str) -> Version:
    return Version(
        number=number,
        framework="lightgbm 4.5",
        config={"num_leaves": 63, "learning_rate": 0.05},
        evidence=(
            Upload("predictions", "eta_eval.csv", partial(gen.eta_predictions, seed=40 + number)),
            Upload("latency", "latency.csv", partial(gen.latency_samples, seed=40 + number, median_ms=18)),
            Upload("feature_reference", "features_reference.csv", partial(gen.feature_table, seed=40)),
            Upload(
                "feature_current",
                "features_current.csv",
                # v3 sees longer trips (drift) and its documents are unfinished.
                partial(gen.feature_table, seed=50 + number, shift=0.6 if number == 3 else 0.0),
            ),
            Upload("cost", "cost.json", partial(gen.cost_report, total=3.1, predictions=100_000)),
        ),
        documents=_documents(
            "ridesharing-eta",
            "Show riders an arrival estimate.",
            "None at prediction time; estimates are audited weekly.",
            complete=number != 3,
        ),
        promotions=promotions,
        expect_stage=stage,
    )


ETA_SIGN_OFFS = (Approve("lead", "reviewer"), Approve("owner", "model_owner"), Approve("product", "product_owner"))

ETA = Scenario(
    model="ridesharing-eta",
    team="mobility",
    risk_tier="medium",
    domain="mobility",
    description="Predicts trip duration (minutes) shown to riders before booking.",
    summary="v2 in production; v3 (drifted, documents unfinished) waits for the tech lead; v4 is an experiment on staging",
    versions=(
        _eta_version(1, _to_production(approvals=ETA_SIGN_OFFS), "deprecated"),
        _eta_version(2, _to_production(approvals=ETA_SIGN_OFFS), "production"),
        _eta_version(
            3,
            (Promotion("staging", justification="New traffic features.", gates="worker", expect="awaiting_approvals"),),
            "draft",
        ),
        # An experiment: staging only, never full production (the policy allows it into staging).
        _eta_version(
            4,
            (
                Promotion(
                    "staging",
                    justification="Try a weather feature on staging traffic for two weeks.",
                    change_type="experiment",
                    approvals=(Approve("lead", "reviewer"),),
                ),
            ),
            "staging",
        ),
    ),
)

# --- fraud-detector: v2 waits for owner and risk sign-offs ----------------------------------


def _fraud_version(number: int, gain: float, promotions: tuple[Promotion, ...], stage: str) -> Version:
    return Version(
        number=number,
        framework="xgboost 2.1",
        config={"max_depth": 7, "scale_pos_weight": 40},
        evidence=(
            Upload("predictions", "backtest.csv", partial(gen.fraud_predictions, seed=60 + number, recall_gain=gain)),
        ),
        documents=_documents(
            "fraud-detector",
            "Block likely fraudulent card transactions.",
            "Blocked customers can call support; analysts review blocks daily.",
        ),
        promotions=promotions,
        expect_stage=stage,
    )


FRAUD = Scenario(
    model="fraud-detector",
    team="payments-fraud",
    risk_tier="high",
    domain="payments",
    description="Scores card transactions for fraud; blocks above the threshold.",
    summary="v1 in production; v2 waits for model owner and risk sign-offs",
    versions=(
        _fraud_version(
            1,
            1.2,
            _to_production(approvals=(Approve("owner", "model_owner"), Approve("risk", "risk_officer"))),
            "production",
        ),
        _fraud_version(
            2,
            1.6,
            _to_production(
                justification="Recall +0.5 points; expected cost per transaction lower.",
                gates="worker",
                expect="awaiting_approvals",
            ),
            "staging",
        ),
    ),
)

SCENARIOS = (CREDIT, RECOMMENDER, IMAGING, ETA, FRAUD)
