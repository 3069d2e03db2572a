"""Tests of the pure reproducibility gate and the canonical config hash."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.core.canonical import canonical_json, canonical_json_sha256
from governance.core.vocabulary import LINEAGE_FIELDS
from governance.gates.stats.outcome import FAILED, PASSED, GateInputError
from governance.gates.stats.reproducibility import reproducibility_gate

CONFIG = {
    "model": "xgboost",
    "params": {"max_depth": 6, "eta": 0.1},
    "features": ["a", "b"],
}


def lineage(**overrides):
    data = {
        "code_hash": "3f2a" * 10,
        "data_snapshot_id": "lake/credit/2024-05-01@v3",
        "training_config": CONFIG,
        "training_config_sha256": canonical_json_sha256(CONFIG),
        "seed": 42,
        "artifact_sha256": "ab" * 32,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not _DROP}


_DROP = object()


# ------------------------------------------------------------------------------------
# canonical hash
# ------------------------------------------------------------------------------------


def test_canonical_json_matches_the_contract():
    obj = {"b": 1, "a": [1, 2, {"z": None, "é": "ü"}]}
    expected = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(obj) == expected.encode("utf-8")
    assert canonical_json(obj) == '{"a":[1,2,{"z":null,"é":"ü"}],"b":1}'.encode()
    assert canonical_json_sha256(obj) == hashlib.sha256(expected.encode("utf-8")).hexdigest()


def test_canonical_hash_known_value():
    assert canonical_json_sha256({}) == hashlib.sha256(b"{}").hexdigest()
    assert canonical_json_sha256({"a": 1}) == hashlib.sha256(b'{"a":1}').hexdigest()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=8))
def test_canonical_hash_ignores_key_order(config):
    reordered = dict(reversed(list(config.items())))
    assert canonical_json_sha256(reordered) == canonical_json_sha256(config)
    digest = canonical_json_sha256(config)
    assert len(digest) == 64 and digest == digest.lower()


# ------------------------------------------------------------------------------------
# the gate
# ------------------------------------------------------------------------------------


def test_complete_lineage_passes():
    result = reproducibility_gate(lineage=lineage(), require=None, artifact_sha256_matches=True)
    assert result.status == PASSED
    assert result.metric == "lineage_problems"
    assert result.value == 0 and result.threshold == 0 and result.n == 5
    assert set(result.groups) == set(LINEAGE_FIELDS)
    assert all(g["status"] == "ok" for g in result.groups.values())
    assert result.explanation.startswith("all 5 required lineage fields present")
    assert result.explanation.endswith("→ passed")
    assert result.details["training_config_sha256_computed"] == canonical_json_sha256(CONFIG)
    json.dumps(result.to_dict())


@pytest.mark.parametrize(
    "code_hash",
    [
        "a" * 39 + "1",
        "0123456789abcdef" * 4,
        "sha256:" + "0123456789abcdef" * 4,
        "ABCDEF12" * 5,
    ],
)
def test_valid_code_hashes(code_hash):
    result = reproducibility_gate(
        lineage=lineage(code_hash=code_hash),
        require=["code_hash"],
        artifact_sha256_matches=None,
    )
    assert result.passed, result.explanation


FIELD_CASES = [
    ("code_hash", _DROP, "missing", "code_hash missing"),
    ("code_hash", "", "missing", "code_hash missing"),
    ("code_hash", "abc123", "malformed", "code_hash malformed"),
    ("code_hash", "g" * 40, "malformed", "code_hash malformed"),
    ("code_hash", "a" * 41, "malformed", "code_hash malformed"),
    ("code_hash", "sha1:" + "a" * 40, "malformed", "code_hash malformed"),
    ("code_hash", "0" * 40, "malformed", "placeholder"),
    ("code_hash", 1234, "malformed", "code_hash malformed"),
    ("data_snapshot_id", _DROP, "missing", "data_snapshot_id missing"),
    ("data_snapshot_id", "   ", "missing", "data_snapshot_id missing"),
    ("data_snapshot_id", "snap 2024", "malformed", "contains whitespace"),
    ("data_snapshot_id", "snap\t2024", "malformed", "contains whitespace"),
    ("data_snapshot_id", "x" * 201, "malformed", "201 characters, at most 200"),
    ("data_snapshot_id", 17, "malformed", "must be a string"),
    ("training_config", _DROP, "missing", "training_config missing"),
    ("training_config", {}, "missing", "training_config missing (empty object)"),
    ("training_config", ["lr", 0.1], "malformed", "must be a JSON object"),
    ("training_config", "lr=0.1", "malformed", "must be a JSON object"),
    ("training_config", {"f": {1, 2}}, "malformed", "not JSON-serialisable"),
    ("training_config_sha256", _DROP, "missing", "training_config_sha256 missing"),
    ("training_config_sha256", "f" * 63, "malformed", "expected 64 hex"),
    ("training_config_sha256", 5, "malformed", "must be a string"),
    ("training_config_sha256", "0" * 64, "mismatch", "does not match the config"),
    ("seed", _DROP, "missing", "seed missing"),
    ("seed", True, "malformed", "must be an integer, got bool"),
    ("seed", 42.0, "malformed", "must be an integer, got float"),
    ("seed", "42", "malformed", "must be an integer, got str"),
    ("seed", -1, "malformed", "must be in 0..4294967295"),
    ("seed", 2**32, "malformed", "must be in 0..4294967295"),
    ("artifact_sha256", _DROP, "missing", "artifact_sha256 missing"),
    ("artifact_sha256", "ab" * 20, "malformed", "expected 64 hex"),
    ("artifact_sha256", "sha256:" + "ab" * 32, "malformed", "expected 64 hex"),
    ("artifact_sha256", "0" * 64, "malformed", "placeholder"),
]


@pytest.mark.parametrize(("field", "value", "status", "reason"), FIELD_CASES)
def test_each_bad_field_fails_and_is_named(field, value, status, reason):
    result = reproducibility_gate(lineage=lineage(**{field: value}), require=None, artifact_sha256_matches=True)
    group = "training_config" if field == "training_config_sha256" else field
    assert result.status == FAILED
    assert result.value == 1
    assert result.groups[group]["status"] == status
    assert reason in result.groups[group]["reason"]
    assert reason in result.explanation
    assert result.explanation.endswith("→ failed")
    others = [g for k, g in result.groups.items() if k != group]
    assert all(g["status"] == "ok" for g in others)


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_seed_bounds(seed):
    assert reproducibility_gate(lineage=lineage(seed=seed), require=["seed"], artifact_sha256_matches=None).passed


def test_snapshot_id_of_200_characters_passes():
    assert reproducibility_gate(
        lineage=lineage(data_snapshot_id="x" * 200),
        require=["data_snapshot_id"],
        artifact_sha256_matches=None,
    ).passed


def test_config_hash_accepts_prefix_and_upper_case():
    digest = canonical_json_sha256(CONFIG)
    for recorded in ("sha256:" + digest, digest.upper()):
        result = reproducibility_gate(
            lineage=lineage(training_config_sha256=recorded),
            require=["training_config"],
            artifact_sha256_matches=None,
        )
        assert result.passed, result.explanation


def test_config_hash_is_key_order_independent():
    reordered = {
        "features": ["a", "b"],
        "params": {"eta": 0.1, "max_depth": 6},
        "model": "xgboost",
    }
    result = reproducibility_gate(
        lineage=lineage(training_config=reordered),
        require=["training_config"],
        artifact_sha256_matches=None,
    )
    assert result.passed


def test_changed_config_is_a_mismatch():
    changed = dict(CONFIG, model="lightgbm")
    result = reproducibility_gate(
        lineage=lineage(training_config=changed),
        require=["training_config"],
        artifact_sha256_matches=None,
    )
    assert result.status == FAILED
    assert result.groups["training_config"]["status"] == "mismatch"


def test_artifact_hash_mismatch_always_fails():
    for verify in (False, True):
        mismatch = reproducibility_gate(
            lineage=lineage(),
            require=None,
            verify_artifact=verify,
            artifact_sha256_matches=False,
            artifact_note="fetched from s3://models/m.bin (10 bytes)",
        )
        assert mismatch.status == FAILED
        assert mismatch.groups["artifact_sha256"]["status"] == "mismatch"
        assert (
            "artifact's sha256 does not match artifact_sha256 (fetched from s3://models/m.bin (10 bytes))"
            in mismatch.explanation
        )


def test_an_unverified_artifact_is_a_warning_by_default():
    unknown = reproducibility_gate(
        lineage=lineage(),
        require=None,
        artifact_sha256_matches=None,
        artifact_note="s3://models/m.bin: access denied",
    )
    assert unknown.status == PASSED and unknown.value == 0
    assert unknown.groups["artifact_sha256"]["status"] == "unverified"
    assert unknown.explanation.endswith(
        "; warning: artifact_sha256 unverified: s3://models/m.bin: access denied "
        "(it does not fail the gate: the policy does not ask verify_artifact: true) → passed"
    )
    assert unknown.details["warnings"] and unknown.details["verify_artifact"] is False


def test_an_unverified_artifact_fails_when_the_policy_asks_verification():
    unknown = reproducibility_gate(lineage=lineage(), require=None, verify_artifact=True, artifact_sha256_matches=None)
    assert unknown.status == FAILED and unknown.value == 1
    assert unknown.groups["artifact_sha256"]["status"] == "unverified"
    assert "artifact file not available to verify artifact_sha256 (the policy asks verify_artifact: true)" in (
        unknown.explanation
    )


def test_a_verified_artifact_says_how():
    result = reproducibility_gate(
        lineage=lineage(), require=None, artifact_sha256_matches=True, artifact_note="fetched from file:///m.bin"
    )
    assert result.passed and "artifact sha256 verified (fetched from file:///m.bin)" in result.explanation


def test_artifact_not_required_means_not_checked():
    require = ["code_hash", "data_snapshot_id", "training_config", "seed"]
    result = reproducibility_gate(
        lineage=lineage(artifact_sha256=_DROP),
        require=require,
        artifact_sha256_matches=None,
    )
    assert result.passed
    assert "artifact_sha256" not in result.groups
    assert result.details["not_required"] == ["artifact_sha256"]
    assert result.n == 4


def test_only_required_fields_are_judged():
    result = reproducibility_gate(
        lineage={"seed": 7, "code_hash": "nonsense"},
        require=["seed"],
        artifact_sha256_matches=None,
    )
    assert result.passed
    assert list(result.groups) == ["seed"]


def test_several_problems_are_all_named():
    result = reproducibility_gate(
        lineage={"code_hash": "xyz", "seed": -5},
        require=None,
        artifact_sha256_matches=None,
    )
    assert result.value == 5
    for text in (
        "code_hash malformed",
        "data_snapshot_id missing",
        "training_config missing",
        "seed malformed",
        "artifact_sha256 missing",
    ):
        assert text in result.explanation


def test_empty_require_passes():
    result = reproducibility_gate(lineage={}, require=[], artifact_sha256_matches=None)
    assert result.passed and result.n == 0
    assert result.explanation == "no lineage fields required → passed"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lineage": [], "require": None}, "lineage must be an object"),
        ({"lineage": {}, "require": ["seed", "git"]}, "unknown reproducibility fields"),
        ({"lineage": {}, "require": "seed"}, "require must be a list"),
        (
            {"lineage": {}, "require": None, "artifact_sha256_matches": "yes"},
            "artifact_sha256_matches",
        ),
    ],
)
def test_bad_inputs_raise(kwargs, message):
    kwargs.setdefault("artifact_sha256_matches", None)
    with pytest.raises(GateInputError, match=message):
        reproducibility_gate(**kwargs)
