"""Property tests: whatever the input, parse_policy returns a document or raises
PolicyError with at least one well-formed issue - never any other exception.

Pure: no Django (run with `-p no:django`). About 5 s in total.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.core import vocabulary as V
from governance.policies import schema as S
from governance.policies.loader import _VALIDATOR, PolicyDocument, PolicyError, parse_policy

EXAMPLES = sorted((Path(S.__file__).parent / "examples").glob("*.yaml"))
EXAMPLE_TEXTS = [p.read_text("utf-8") for p in EXAMPLES]
EXAMPLE_RAW = [yaml.safe_load(t) for t in EXAMPLE_TEXTS]  # as written
EXAMPLE_FILLED = [parse_policy(t).data for t in EXAMPLE_TEXTS]  # with defaults

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,  # leave no .hypothesis/ directory in the tree
    suppress_health_check=[HealthCheck.too_slow],
)

VOCABULARY = (
    list(S.ROLES)
    + list(V.STAGES)
    + list(S.TRANSITIONS)
    + list(S.GATE_TYPES)
    + list(S.PERFORMANCE_METRICS)
    + list(S.FAIRNESS_METRICS)
    + ["min", "max", "id", "type", "gates", "approvals", "emergency", "canary", "auditor"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.text(max_size=12),
    st.sampled_from(VOCABULARY),
)
KEYS = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=10))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
YAML_CHARS = ":-[]{}#&*!|>'\"\n\t ,?%@`.~0123456789abcdefnlrtuy_>"


def _line_breaks(text: str | bytes) -> int:
    """Line breaks as YAML counts them (also NEL, LS, PS and a lone CR)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return len(re.findall("\r\n|[\n\r\x85\u2028\u2029]", text))


def _check(text: str | bytes) -> PolicyDocument | None:
    """The property itself."""
    try:
        doc = parse_policy(text)
    except PolicyError as exc:
        assert exc.issues
        newlines = _line_breaks(text)
        for issue in exc.issues:
            assert isinstance(issue.path, str) and isinstance(issue.message, str)
            assert issue.message
            assert issue.line is None or 1 <= issue.line <= newlines + 1, issue
        assert [i for i in exc.issues if i.line is not None] == sorted(
            (i for i in exc.issues if i.line is not None), key=lambda i: i.line
        )
        assert str(exc).count("\n") == len(exc.issues) - 1
        return None
    # A document is always JSON-serialisable, valid against the schema with its defaults,
    # and stable through a dump/parse round trip.
    json.dumps(doc.data)
    assert _VALIDATOR.is_valid(doc.data)
    assert parse_policy(yaml.safe_dump(doc.data)).data == doc.data
    return doc


# --------------------------------------------------------------------------- random text


@SETTINGS
@given(st.text(max_size=300))
def test_random_text(text):
    _check(text)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(raw):
    _check(raw)


@SETTINGS
@given(st.text(alphabet=YAML_CHARS, max_size=200))
def test_yaml_ish_text(text):
    _check(text)


@SETTINGS
@given(st.data())
def test_character_edits_of_examples(data):
    text = data.draw(st.sampled_from(EXAMPLE_TEXTS))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        char = data.draw(st.sampled_from(YAML_CHARS))
        if op == "insert":
            text = text[:pos] + char + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + 1 :]
        else:
            text = text[:pos] + char + text[pos + 1 :]
    _check(text)


# --------------------------------------------------------------------------- structural mutations


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _mutate(doc, data):
    path = data.draw(st.sampled_from(list(_paths(doc))))
    op = data.draw(st.sampled_from(["delete", "replace", "rename", "duplicate", "add"]))
    if not path:
        return data.draw(VALUES) if op == "replace" else doc
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = data.draw(VALUES)
    elif op == "rename" and isinstance(parent, dict):
        parent[data.draw(KEYS)] = parent.pop(last)
    elif op == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    elif op == "add" and isinstance(parent[last], dict):
        parent[last][data.draw(KEYS)] = data.draw(VALUES)
    return doc


@SETTINGS
@given(st.data())
def test_structural_mutations_of_examples(data):
    source = data.draw(st.sampled_from(EXAMPLE_RAW + EXAMPLE_FILLED))
    doc = copy.deepcopy(source)
    for _ in range(data.draw(st.integers(1, 3))):
        doc = _mutate(doc, data)
    _check(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@SETTINGS
@given(st.data())
def test_changing_a_gate_threshold_inside_its_range_stays_valid(data):
    """The mutation test's complement: valid edits are accepted and reflected in data."""
    index = data.draw(st.sampled_from(range(len(EXAMPLE_RAW))))
    doc = copy.deepcopy(EXAMPLE_RAW[index])
    transition = doc["transitions"]["staging->production"]
    gate = data.draw(st.sampled_from(transition["gates"]))
    new_confidence = data.draw(st.floats(min_value=0.5, max_value=0.999))
    new_bootstrap = data.draw(st.integers(min_value=100, max_value=10000))
    if gate["type"] in ("performance", "latency", "cost_weighted"):
        gate["confidence"] = new_confidence
        gate["bootstrap_samples"] = new_bootstrap
    parsed = _check(yaml.safe_dump(doc, sort_keys=False))
    assert parsed is not None
    (after,) = [g for g in parsed.gates_for("staging", "production") if g["id"] == gate["id"]]
    for key, value in gate.items():
        assert after[key] == value
