"""Tests of the security gate's SBOM check: CycloneDX structure, with the JSON path of
each problem."""

from __future__ import annotations

import pytest

from governance.gates.stats.security import CYCLONEDX_SCHEMA, check_sbom, components_from_sbom
from tests.gates.stats.security_inputs import make_sbom


def test_schema_is_a_valid_json_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(CYCLONEDX_SCHEMA)


@pytest.mark.parametrize("spec", ["1.2", "1.3", "1.4", "1.5", "1.6"])
def test_valid_sbom_has_no_problems(spec):
    assert check_sbom(make_sbom(specVersion=spec)) == []


def test_minimal_sbom_is_valid():
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.4",
        "components": [{"name": "torch", "version": "2.3.0"}],
    }
    assert check_sbom(sbom) == []


def bad_component():
    sbom = make_sbom()
    del sbom["components"][1]["version"]
    return sbom


def bad_license():
    sbom = make_sbom()
    sbom["components"][0]["licenses"] = [{"license": {"url": "x"}}]
    return sbom


def bad_license_form():
    sbom = make_sbom()
    sbom["components"][0]["licenses"] = [{"nope": 1}]
    return sbom


def bad_hash():
    sbom = make_sbom()
    sbom["components"][0]["hashes"] = [{"alg": "SHA-256", "content": "xyz"}]
    return sbom


def duplicate_ref():
    sbom = make_sbom()
    sbom["components"][1]["bom-ref"] = "pkg:pypi/numpy@1.26.4"
    return sbom


def unknown_dependency():
    sbom = make_sbom()
    sbom["dependencies"][0]["dependsOn"] = ["pkg:pypi/pandas@2.2.0"]
    return sbom


@pytest.mark.parametrize(
    ("sbom", "expected"),
    [
        (None, "$: SBOM is missing"),
        ([], "$: SBOM must be a JSON object"),
        (make_sbom(bomFormat="SPDX"), "$.bomFormat: must be 'CycloneDX'"),
        (make_sbom(specVersion="1.1"), "$.specVersion: must be one of 1.2, 1.3"),
        (make_sbom(specVersion="2.0"), "$.specVersion: must be one of"),
        (make_sbom(specVersion=1.5), "$.specVersion: must be one of"),
        (make_sbom(components=[]), "$.components: must not be empty"),
        (make_sbom(components={"a": 1}), "$.components: must be of type array"),
        (make_sbom(version=0), "$.version: must be >= 1"),
        (make_sbom(serialNumber="abc"), "$.serialNumber: 'abc' is not in the expected"),
        (bad_component(), "$.components[1].version: required property is missing"),
        (bad_license(), "$.components[0].licenses[0]"),
        (bad_license_form(), "$.components[0].licenses[0]: must be a {license"),
        (bad_hash(), "$.components[0].hashes[0].content"),
        (duplicate_ref(), "$.components[1].bom-ref: duplicate bom-ref"),
        (
            unknown_dependency(),
            "$.dependencies[0].dependsOn[0]: 'pkg:pypi/pandas@2.2.0'",
        ),
    ],
)
def test_invalid_sboms_name_the_json_path(sbom, expected):
    problems = check_sbom(sbom)
    assert problems, "expected a problem"
    assert any(p.startswith(expected) for p in problems), problems


def test_missing_top_level_properties_are_each_reported():
    problems = check_sbom({"components": [{"name": "x"}]})
    assert "$.bomFormat: required property is missing" in problems
    assert "$.specVersion: required property is missing" in problems
    assert "$.components[0].version: required property is missing" in problems


def test_empty_name_and_version():
    sbom = make_sbom(components=[{"name": " ", "version": ""}])
    problems = check_sbom(sbom)
    assert "$.components[0].name: must be a non-empty string" in problems
    assert "$.components[0].version: must be a non-empty string" in problems


def test_nested_components_are_checked_and_flattened():
    sbom = make_sbom()
    sbom["components"][0]["components"] = [{"name": "inner", "licenses": []}]
    assert "$.components[0].components[0].version: required property is missing" in (check_sbom(sbom))
    flat = components_from_sbom(sbom)
    assert [c["name"] for c in flat] == ["numpy", "inner", "scikit-learn"]
    assert flat[0]["license"] == "BSD-3-Clause"
    assert flat[1]["license"] is None
    assert flat[2]["license"] == "BSD-3-Clause OR MIT"
