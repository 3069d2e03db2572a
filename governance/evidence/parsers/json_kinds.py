"""Document evidence: metrics, cost, sbom, robustness and training_config as JSON (training
configs also as YAML), and the dispatch of licences, which also come as CSV.

Documents are read whole, up to `JSON_MAX_BYTES`: duplicate keys, NaN/Infinity and deep
nesting are refused before a kind's own rules are checked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import yaml

from governance.evidence.parsers.errors import EvidenceError, human_bytes, json_type, show_value
from governance.evidence.parsers.licences import licenses_from_csv, licenses_from_json
from governance.evidence.parsers.parsed import ParsedEvidence
from governance.evidence.parsers.sources import Source, read_bounded

JSON_MAX_BYTES = 50 * 1024 * 1024
YAML_MAX_BYTES = 5 * 1024 * 1024  # PyYAML is pure Python here: keep it quick
JSON_MAX_DEPTH = 64


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
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _JsonProblem(f"duplicate key {show_value(key)}")
            result[key] = value
        return result

    def no_constants(name: str) -> Any:
        raise _JsonProblem(f"{name} is not a valid JSON number")

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except _JsonProblem as exc:
        raise EvidenceError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise EvidenceError(f"the JSON is nested too deeply (limit {JSON_MAX_DEPTH})") from None
    _check_tree(data)
    return data


class _JsonProblem(ValueError):
    pass


def _check_tree(data: Any) -> None:
    """Depth limit and finite numbers, without recursion."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > JSON_MAX_DEPTH:
            raise EvidenceError(f"the document is nested too deeply (limit {JSON_MAX_DEPTH})")
        if isinstance(node, dict):
            for key, value in node.items():
                stack.append((value, depth + 1, _join(path, key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                stack.append((value, depth + 1, f"{path}[{index}]"))
        elif isinstance(node, float) and not math.isfinite(node):
            raise EvidenceError(f"at {path or 'top level'!r}: numbers must be finite")


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


class _StrictYamlLoader(yaml.SafeLoader):
    """Safe loader without aliases (no "billion laughs") and with dates kept as text."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not allowed", event.start_mark)
        return super().compose_node(parent, index)


_StrictYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _training_config_from_yaml(raw: bytes, text: str) -> ParsedEvidence:
    if len(raw) > YAML_MAX_BYTES:
        raise EvidenceError(f"the YAML file is larger than {human_bytes(YAML_MAX_BYTES)}")
    try:
        data = yaml.load(text, Loader=_StrictYamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise EvidenceError(f"invalid YAML: {exc.problem or exc.context}", line=line) from None
    except yaml.YAMLError as exc:
        raise EvidenceError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise EvidenceError(f"the YAML is nested too deeply (limit {JSON_MAX_DEPTH})") from None
    data = _yaml_to_json(data)
    _check_tree(data)
    profile = _validate_training_config(data)
    return ParsedEvidence("training_config", "yaml", None, [], profile, data, None)


def _yaml_to_json(data: Any, depth: int = 0) -> Any:
    """Keys as strings; only JSON types survive (the caller stores `data` as JSON)."""
    if depth > JSON_MAX_DEPTH:
        raise EvidenceError(f"the YAML is nested too deeply (limit {JSON_MAX_DEPTH})")
    if isinstance(data, dict):
        return {str(key): _yaml_to_json(value, depth + 1) for key, value in data.items()}
    if isinstance(data, list):
        return [_yaml_to_json(value, depth + 1) for value in data]
    if data is None or isinstance(data, str | int | float | bool):
        return data
    raise EvidenceError(f"unsupported YAML value of type {type(data).__name__}")
