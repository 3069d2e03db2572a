"""Malformed document evidence: JSON kinds (metrics, robustness, cost, SBOM), licence
lists (JSON and CSV), training configs (JSON and YAML), attachments and unknown kinds.

The shared parts of the corpus are in malformed.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evidence.malformed import Case, assert_refused


def _deep_json(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


DOCUMENT_CASES = [
    # --- JSON kinds ------------------------------------------------------------------
    Case("metrics-not-object", "metrics", "m.json", "[0.9]", "metrics must be a JSON object"),
    Case("metrics-empty", "metrics", "m.json", "{}", "metrics is an empty object"),
    Case(
        "metrics-string-value",
        "metrics",
        "m.json",
        '{"auc": "0.9"}',
        "at 'auc': expected a number (or an object of numbers), found the string '0.9'",
    ),
    Case(
        "metrics-boolean-nested",
        "metrics",
        "m.json",
        '{"by_group": {"f": {"auc": true}}}',
        "at 'by_group.f.auc'",
    ),
    Case(
        "metrics-invalid-json",
        "metrics",
        "m.json",
        '{\n  "auc": 0.9,\n  "ks" 0.4\n}',
        "invalid JSON: Expecting ':' delimiter",
        line=3,
    ),
    Case("metrics-nan", "metrics", "m.json", '{"auc": NaN}', "NaN is not a valid JSON number"),
    Case("metrics-huge-number", "metrics", "m.json", '{"auc": 1e999}', "numbers must be finite"),
    Case("metrics-duplicate-key", "metrics", "m.json", '{"auc": 1, "auc": 2}', "duplicate key"),
    Case("json-too-deep", "metrics", "m.json", _deep_json(100), "nested too deeply"),
    Case("json-recursion-bomb", "metrics", "m.json", "[" * 100_000, "nested too deeply"),
    Case(
        "json-too-large",
        "metrics",
        "m.json",
        '{"auc": 0.9, "pad": "' + "x" * 5000 + '"}',
        "the file is larger than 4.0 KiB",
        patch={"JSON_MAX_BYTES": 4096},
    ),
    Case("robustness-no-tests", "robustness", "r.json", '{"tests": []}', 'non-empty "tests" list'),
    Case(
        "robustness-bad-number",
        "robustness",
        "r.json",
        json.dumps({"tests": [{"name": "n", "metric": "auc", "baseline": 0.9, "perturbed": "x"}]}),
        "at 'tests[0].perturbed': expected a number",
    ),
    Case("cost-negative", "cost", "c.json", '{"cost_per_1k": -1}', "must not be negative"),
    Case(
        "cost-zero-predictions",
        "cost",
        "c.json",
        '{"total_cost": 10, "predictions": 0}',
        "expected a whole number > 0",
    ),
    Case("cost-missing", "cost", "c.json", '{"price": 1}', 'cost needs "cost_per_1k"'),
    Case(
        "sbom-spdx",
        "sbom",
        "s.json",
        '{"spdxVersion": "SPDX-2.3", "packages": []}',
        "this is an SPDX document",
    ),
    Case(
        "sbom-wrong-format",
        "sbom",
        "s.json",
        '{"bomFormat": "Other", "specVersion": "1.5", "components": []}',
        'not a CycloneDX SBOM: "bomFormat" must be "CycloneDX"',
    ),
    Case(
        "sbom-no-components",
        "sbom",
        "s.json",
        '{"bomFormat": "CycloneDX", "specVersion": "1.5"}',
        'no "components" list',
    ),
    Case("sbom-xml", "sbom", "s.xml", "<bom xmlns='cyclonedx'/>", "CycloneDX XML is not supported"),
    Case(
        "licenses-json-missing-license",
        "licenses",
        "l.json",
        '[{"name": "a", "license": "MIT"}, {"name": "b"}]',
        "at '[1].license': a non-empty string is required",
    ),
    Case(
        "licenses-csv-missing-column",
        "licenses",
        "l.csv",
        "name,version\nnumpy,1\n",
        "missing required column 'license'",
        line=1,
    ),
    Case(
        "licenses-csv-empty-name",
        "licenses",
        "l.csv",
        "name,license\nnumpy,BSD\n,MIT\n",
        "a non-empty string is required",
        line=3,
        column="name",
    ),
    Case(
        "licenses-csv-ragged",
        "licenses",
        "l.csv",
        "name,license\nnumpy,BSD,extra\n",
        "expected 2 fields like the header, found 3",
        line=2,
    ),
    Case(
        "training-config-list",
        "training_config",
        "t.yaml",
        "- a\n- b\n",
        "must be a mapping, found a list",
    ),
    Case("training-config-empty", "training_config", "t.json", "{}", "the training config is empty"),
    Case(
        "training-config-yaml-aliases",
        "training_config",
        "t.yaml",
        'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n',
        "YAML aliases are not allowed",
        line=2,
    ),
    Case(
        "training-config-yaml-syntax",
        "training_config",
        "t.yaml",
        "lr: 0.1\nlayers: [1, 2\nseed: 3\n",
        "invalid YAML",
        line=3,
    ),
    Case(
        "training-config-yaml-python-tag",
        "training_config",
        "t.yaml",
        "x: !!python/object/apply:os.system ['true']\n",
        "invalid YAML",
        line=1,
    ),
    Case("attachment-empty", "attachment", "a.pdf", b"", "the file is empty"),
    Case("unknown-kind", "model_weights", "w.bin", b"x", "unknown evidence kind", error_field="kind"),
]


@pytest.mark.parametrize("case", DOCUMENT_CASES, ids=[case.id for case in DOCUMENT_CASES])
def test_it_refuses_malformed_evidence(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_refused(case, tmp_path, monkeypatch)
