"""CycloneDX SBOM checks: the JSON structure the gate requires, bom-refs, dependencies.

The structure is `CYCLONEDX_SCHEMA`, an essential subset of CycloneDX 1.2-1.6 JSON,
checked the same way for every specVersion. It is deliberately not the official schema
(what cyclonedx-python-lib's JsonValidator applies): that one also refuses SBOMs this
gate accepts - a component without `type`, a `machine-learning-model` or a metadata
component without version before 1.5, and from 1.4 unknown properties and licence ids
outside the SPDX list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from .findings import short_repr
from .licences import component_license

_COMPONENT_TYPES = [
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "file",
    "machine-learning-model",
    "data",
    "cryptographic-asset",
]
_HASH_ALGS = [
    "MD5",
    "SHA-1",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "BLAKE2b-256",
    "BLAKE2b-384",
    "BLAKE2b-512",
    "BLAKE3",
]
_NON_EMPTY = {"type": "string", "minLength": 1, "pattern": r"\S"}

# The essential structure of a CycloneDX 1.2-1.6 BOM (JSON), as this gate requires it.
# Stricter than the official schema on purpose: every component needs a version (the
# gate cannot judge an unversioned dependency) and the component list must be non-empty.
CYCLONEDX_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "CycloneDX BOM (essential subset checked by the security gate)",
    "type": "object",
    "required": ["bomFormat", "specVersion", "components"],
    "properties": {
        "bomFormat": {"const": "CycloneDX"},
        "specVersion": {"enum": ["1.2", "1.3", "1.4", "1.5", "1.6"]},
        "serialNumber": {
            "type": "string",
            "pattern": r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
            r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        },
        "version": {"type": "integer", "minimum": 1},
        "metadata": {
            "type": "object",
            "properties": {
                "timestamp": {
                    "type": "string",
                    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
                },
                "component": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": _NON_EMPTY,
                        "type": {"enum": _COMPONENT_TYPES},
                    },
                },
            },
        },
        "components": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/component"},
        },
        "dependencies": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["ref"],
                "properties": {
                    "ref": _NON_EMPTY,
                    "dependsOn": {"type": "array", "items": _NON_EMPTY},
                },
            },
        },
    },
    "$defs": {
        "component": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {
                "type": {"enum": _COMPONENT_TYPES},
                "bom-ref": _NON_EMPTY,
                "group": {"type": "string"},
                "name": _NON_EMPTY,
                "version": _NON_EMPTY,
                "purl": {
                    "type": "string",
                    "pattern": r"^pkg:[A-Za-z.+\-][A-Za-z0-9.+\-]*/",
                },
                "licenses": {"$ref": "#/$defs/licenses"},
                "hashes": {"type": "array", "items": {"$ref": "#/$defs/hash"}},
                "components": {"type": "array", "items": {"$ref": "#/$defs/component"}},
            },
        },
        "licenses": {
            "type": "array",
            "items": {
                "description": "a {license: {id | name}} or an {expression} entry",
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["license"],
                        "properties": {
                            "license": {
                                "type": "object",
                                "anyOf": [{"required": ["id"]}, {"required": ["name"]}],
                                "properties": {"id": _NON_EMPTY, "name": _NON_EMPTY},
                            }
                        },
                    },
                    {
                        "type": "object",
                        "required": ["expression"],
                        "properties": {"expression": _NON_EMPTY},
                    },
                ],
            },
        },
        "hash": {
            "type": "object",
            "required": ["alg", "content"],
            "properties": {
                "alg": {"enum": _HASH_ALGS},
                "content": {
                    "type": "string",
                    "pattern": r"^(?:[a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}"
                    r"|[a-fA-F0-9]{96}|[a-fA-F0-9]{128})$",
                },
            },
        },
    },
}
Draft202012Validator.check_schema(CYCLONEDX_SCHEMA)
_SBOM_VALIDATOR = Draft202012Validator(CYCLONEDX_SCHEMA)


def _json_path(parts: Iterable[Any]) -> str:
    path = "$"
    for p in parts:
        path += f"[{p}]" if isinstance(p, int) else f".{p}"
    return path


def _schema_message(error: Any) -> str:
    path = _json_path(error.absolute_path)
    v, expected = error.validator, error.validator_value
    if v == "required":
        m = re.match(r"^'(.+)' is a required property$", error.message)
        prop = m.group(1) if m else "?"
        return f"{path}.{prop}: required property is missing"
    if v == "const":
        return f"{path}: must be {expected!r} (got {short_repr(error.instance)})"
    if v == "enum":
        allowed = ", ".join(str(x) for x in expected)
        return f"{path}: must be one of {allowed} (got {short_repr(error.instance)})"
    if v == "type":
        return f"{path}: must be of type {expected}"
    if v == "minItems":
        return f"{path}: must not be empty"
    if v in ("minLength", "pattern") and path.endswith((".name", ".version", ".ref")):
        return f"{path}: must be a non-empty string"
    if v == "pattern":
        return f"{path}: {short_repr(error.instance)} is not in the expected format"
    if v in ("oneOf", "anyOf"):
        what = error.schema.get("description", "an allowed form")
        if v == "anyOf" and path.endswith(".license"):
            what = "an object with an id or a name"
        return f"{path}: must be {what}"
    if v == "minimum":
        return f"{path}: must be >= {expected}"
    msg = error.message
    return f"{path}: {msg if len(msg) <= 120 else msg[:119] + '…'}"


def check_sbom(sbom: Mapping[str, Any] | None) -> list[str]:
    """Problems with a CycloneDX JSON SBOM; [] when it is acceptable.

    Validates against `CYCLONEDX_SCHEMA` (bomFormat, specVersion 1.2-1.6, non-empty
    components each with name and version, licences, hashes, purl, dependencies), then
    checks that bom-refs are unique and that dependencies name known bom-refs. Each
    message starts with the JSON path it is about (``$.components[2].version: ...``).
    """
    if sbom is None:
        return ["$: SBOM is missing (no sbom evidence)"]
    if not isinstance(sbom, Mapping):
        return ["$: SBOM must be a JSON object"]
    sbom = dict(sbom)
    errors = sorted(
        _SBOM_VALIDATOR.iter_errors(sbom),
        key=lambda e: ([str(p) for p in e.absolute_path], e.validator),
    )
    problems: list[str] = []
    for error in errors:
        msg = _schema_message(error)
        if msg not in problems:
            problems.append(msg)

    refs: dict[str, str] = {}

    def walk(components: Any, path: str) -> None:
        if not isinstance(components, list):
            return
        for i, comp in enumerate(components):
            if not isinstance(comp, Mapping):
                continue
            here = f"{path}[{i}]"
            ref = comp.get("bom-ref")
            if isinstance(ref, str) and ref:
                if ref in refs:
                    problems.append(f"{here}.bom-ref: duplicate bom-ref {short_repr(ref)} (also at {refs[ref]})")
                else:
                    refs[ref] = here
            walk(comp.get("components"), here + ".components")

    metadata = sbom.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("component"), Mapping):
        ref = metadata["component"].get("bom-ref")
        if isinstance(ref, str) and ref:
            refs[ref] = "$.metadata.component"
    walk(sbom.get("components"), "$.components")

    dependencies = sbom.get("dependencies")
    if refs and isinstance(dependencies, list):
        for i, dep in enumerate(dependencies):
            if not isinstance(dep, Mapping):
                continue
            ref = dep.get("ref")
            if isinstance(ref, str) and ref and ref not in refs:
                problems.append(f"$.dependencies[{i}].ref: {short_repr(ref)} is not a known bom-ref")
            depends = dep.get("dependsOn")
            if isinstance(depends, list):
                for j, target in enumerate(depends):
                    if isinstance(target, str) and target and target not in refs:
                        problems.append(
                            f"$.dependencies[{i}].dependsOn[{j}]: {short_repr(target)} is not a known bom-ref"
                        )
    return problems


def components_from_sbom(sbom: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Flatten a CycloneDX SBOM's components (nested too) to {name, version, license}."""
    out: list[dict[str, Any]] = []

    def walk(components: Any) -> None:
        if not isinstance(components, list):
            return
        for comp in components:
            if not isinstance(comp, Mapping):
                continue
            out.append(
                {
                    "name": comp.get("name"),
                    "version": comp.get("version"),
                    "license": component_license(comp),
                }
            )
            walk(comp.get("components"))

    if isinstance(sbom, Mapping):
        walk(sbom.get("components"))
    return out
