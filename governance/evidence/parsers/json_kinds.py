"""Document evidence: metrics, cost, sbom, robustness and training_config as JSON (training
configs also as YAML), and the dispatch of licences, which also come as CSV.

Documents are read whole, up to `JSON_MAX_BYTES`, under the one loading policy
(`core.inputs`): duplicate keys, NaN/Infinity, huge numbers, NUL, lone surrogates and deep
nesting are refused before a kind's own rules are checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from governance.core.inputs import MAX_DEPTH, InputRefused, Unreadable, json_loads, yaml_loads
from governance.evidence.parsers.errors import EvidenceError, human_bytes, json_type
from governance.evidence.parsers.licences import licenses_from_csv, licenses_from_json
from governance.evidence.parsers.parsed import ParsedEvidence
from governance.evidence.parsers.sources import Source, read_bounded

JSON_MAX_BYTES = 50 * 1024 * 1024
YAML_MAX_BYTES = 5 * 1024 * 1024  # PyYAML is pure Python here: keep it quick
JSON_MAX_DEPTH = MAX_DEPTH


def parse_document(kind: str, source: Source) -> ParsedEvidence:
    if source.container == "parquet":
        raise EvidenceError(f"{kind} evidence must be JSON, not Parquet")
    raw = read_bounded(source, JSON_MAX_BYTES)
    text = raw.decode("utf-8")
    if not text.strip():
        raise EvidenceError("the file is empty")
    first = text.lstrip()[:1]
    if kind == "licenses" and first not in ("[", "{"):
        return licenses_from_csv(text)
    yaml_named = source.original_name.lower().endswith((".yaml", ".yml"))
    if kind == "training_config" and (yaml_named or first not in ("[", "{")):
        return _training_config_from_yaml(raw, text)
    if kind == "sbom" and first == "<":
        raise EvidenceError("CycloneDX XML is not supported: upload the JSON SBOM")
    data = _load_json(text)
    if kind == "licenses":
        return licenses_from_json(data)
    profile = _JSON_VALIDATORS[kind](data)
    return ParsedEvidence(kind, "json", None, [], profile, data, None)


def _load_json(text: str) -> Any:
    """The one loading policy (core.inputs): size, depth, numbers, NUL and surrogates."""
    try:
        return json_loads(text, field="file", max_bytes=JSON_MAX_BYTES)
    except Unreadable as exc:
        raise EvidenceError(exc.message, line=exc.line) from None
    except InputRefused as exc:
        raise EvidenceError(exc.message.removeprefix("file: ").removeprefix("file.")) from None


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _require_object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise EvidenceError(f"{what} must be a JSON object, found {json_type(data)}")
    return data


def _validate_metrics(data: Any) -> dict[str, Any]:
    metrics = _require_object(data, "metrics")
    if not metrics:
        raise EvidenceError("metrics is an empty object: give at least one metric")
    leaves: list[str] = []
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in metrics.items()]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            if not value:
                raise EvidenceError(f"at {path!r}: empty object")
            stack.extend((_join(path, k), v) for k, v in value.items())
        elif _is_number(value):
            leaves.append(path)
        else:
            raise EvidenceError(f"at {path!r}: expected a number (or an object of numbers), found {json_type(value)}")
    leaves.sort()
    return {"metrics": len(leaves), "keys": leaves[:100]}


def _validate_robustness(data: Any) -> dict[str, Any]:
    document = _require_object(data, "robustness")
    tests = document.get("tests")
    if not isinstance(tests, list) or not tests:
        raise EvidenceError('robustness needs a non-empty "tests" list')
    for index, test in enumerate(tests):
        where = f"tests[{index}]"
        if not isinstance(test, dict):
            raise EvidenceError(f"at {where!r}: expected an object, found {json_type(test)}")
        for key in ("name", "metric"):
            value = test.get(key)
            if not isinstance(value, str) or not value.strip():
                raise EvidenceError(f"at {where + '.' + key!r}: a non-empty string is required")
        for key in ("baseline", "perturbed"):
            value = test.get(key)
            if not _is_number(value):
                raise EvidenceError(f"at {where + '.' + key!r}: expected a number, found {json_type(value)}")
    return {"tests": len(tests), "metrics": sorted({test["metric"] for test in tests})}


def _validate_cost(data: Any) -> dict[str, Any]:
    document = _require_object(data, "cost")

    def number(key: str) -> float:
        value = document[key]
        if not _is_number(value):
            raise EvidenceError(f"at {key!r}: expected a number, found {json_type(value)}")
        if value < 0:
            raise EvidenceError(f"at {key!r}: must not be negative")
        return float(value)

    if "cost_per_1k" in document:
        per_1k = number("cost_per_1k")
    elif "total_cost" in document and "predictions" in document:
        total = number("total_cost")
        predictions = document["predictions"]
        if not isinstance(predictions, int) or isinstance(predictions, bool) or predictions <= 0:
            raise EvidenceError(f"at 'predictions': expected a whole number > 0, found {json_type(predictions)}")
        per_1k = total / predictions * 1000
    else:
        raise EvidenceError('cost needs "cost_per_1k", or "total_cost" and "predictions"')
    return {"cost_per_1k": per_1k}


def _validate_sbom(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and "spdxVersion" in data:
        raise EvidenceError("this is an SPDX document: a CycloneDX JSON SBOM is required")
    document = _require_object(data, "a CycloneDX SBOM")
    if document.get("bomFormat") != "CycloneDX":
        raise EvidenceError('not a CycloneDX SBOM: "bomFormat" must be "CycloneDX"')
    spec_version = document.get("specVersion")
    if not isinstance(spec_version, str) or not spec_version:
        raise EvidenceError('not a CycloneDX SBOM: "specVersion" (a string) is missing')
    components = document.get("components")
    if not isinstance(components, list):
        raise EvidenceError('the CycloneDX SBOM has no "components" list')
    return {"spec_version": spec_version, "components": len(components)}


def _validate_training_config(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise EvidenceError(f"the training config must be a mapping, found {json_type(data)}")
    if not data:
        raise EvidenceError("the training config is empty")
    return {"keys": sorted(str(key) for key in data)[:100]}


_JSON_VALIDATORS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "metrics": _validate_metrics,
    "robustness": _validate_robustness,
    "cost": _validate_cost,
    "sbom": _validate_sbom,
    "training_config": _validate_training_config,
}


def _training_config_from_yaml(raw: bytes, text: str) -> ParsedEvidence:
    if len(raw) > YAML_MAX_BYTES:
        raise EvidenceError(f"the YAML file is larger than {human_bytes(YAML_MAX_BYTES)}")
    try:
        data = yaml_loads(text, field="file")
    except Unreadable as exc:
        raise EvidenceError(exc.message, line=exc.line) from None
    except InputRefused as exc:
        raise EvidenceError(exc.message.removeprefix("file.")) from None
    profile = _validate_training_config(data)
    return ParsedEvidence("training_config", "yaml", None, [], profile, data, None)
