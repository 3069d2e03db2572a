"""Tests of the security gate's licence check: deny and allow lists over SPDX expressions."""

from __future__ import annotations

import pytest

from governance.gates.stats.outcome import GateInputError
from governance.gates.stats.security import check_licenses
from tests.gates.stats.security_inputs import DENY, comp


@pytest.mark.parametrize(
    "license",
    [
        "MIT",
        "Apache-2.0",
        "LGPL-3.0-only",  # a different licence from GPL-3.0
        "GPL-2.0-only",
        "MIT OR GPL-3.0-only",  # an allowed alternative exists
        "GPL-3.0-only OR Apache-2.0",
        "(MIT OR GPL-3.0) AND Apache-2.0",
        "mit or apache-2.0",  # operators in lower case
        "LicenseRef-internal",
    ],
)
def test_licence_passes_deny_list(license):
    assert check_licenses([comp(license)], DENY, None) == []


@pytest.mark.parametrize(
    ("license", "denied"),
    [
        ("GPL-3.0", "GPL-3.0"),
        ("GPL-3.0-only", "GPL-3.0-only"),
        ("GPL-3.0-or-later", "GPL-3.0-or-later"),
        ("GPL-3.0+", "GPL-3.0+"),
        ("gpl-3.0-only", "gpl-3.0-only"),
        ("AGPL-3.0-only", "AGPL-3.0-only"),
        ("GPL-3.0-only AND MIT", "GPL-3.0-only"),
        ("MIT AND (Apache-2.0 AND GPL-3.0-or-later)", "GPL-3.0-or-later"),
        ("GPL-3.0-only OR AGPL-3.0-only", "GPL-3.0-only, AGPL-3.0-only"),
        ("GPL-3.0-only WITH GCC-exception-3.1", "GPL-3.0-only"),
        ("GPL-3.0 (see COPYING)", "GPL-3.0"),  # not SPDX, but names a denied id
    ],
)
def test_licence_denied(license, denied):
    findings = check_licenses([comp(license)], DENY, None)
    assert len(findings) == 1
    f = findings[0]
    assert f.kind == "license_denied"
    assert f.component == "libfoo 1.2"
    assert f.message.startswith(f"licence {denied} denied for libfoo 1.2")


@pytest.mark.parametrize(
    "license",
    [
        "MIT OR GPL-3.0-only OR",  # a dangling operator
        "(MIT) GPL-3.0-only",  # two licences without an operator
        "GPL-3.0-only ( )",
        "( AND GPL-3.0-only",
        "GPL-3.0-only WITH",
        "GPL-3.0-only WITH X WITH Y",
        "my_licence AND GPL-3.0-only",  # "_" is not in an SPDX id
    ],
)
def test_malformed_expressions_are_not_spdx_but_still_name_denied_ids(license):
    # license-expression's parser takes the first two, and crashes on the next two;
    # the gate holds expressions to the SPDX grammar.
    findings = check_licenses([comp(license)], DENY, None)
    assert [f.kind for f in findings] == ["license_denied"]
    assert "(unparseable expression" in findings[0].message
    findings = check_licenses([comp(license.replace("GPL-3.0-only", "MIT"))], DENY, ["MIT"])
    assert [f.kind for f in findings] == ["license_unknown"]
    assert "is not valid SPDX" in findings[0].message


def test_deny_entry_variants_match_each_other():
    assert check_licenses([comp("GPL-3.0")], ["GPL-3.0-or-later"], None)
    assert check_licenses([comp("GPL-2.0-or-later")], ["gpl-2.0+"], None)
    assert not check_licenses([comp("GPL-2.0-only")], ["GPL-3.0"], None)
    assert not check_licenses([comp("AGPL-3.0-only")], ["GPL-3.0"], None)


def test_allow_list():
    allow = ["MIT", "Apache-2.0", "BSD-3-Clause"]
    comps = [
        comp("MIT", "a"),
        comp("BSD-2-Clause", "b"),
        comp(None, "c"),
        comp("NOASSERTION", "d"),
        comp("MIT OR GPL-3.0", "e"),
        comp("MIT AND MPL-2.0", "f"),
        comp("Apache 2.0 license", "g"),
        {"name": "h", "version": "1"},
    ]
    findings = check_licenses(comps, DENY, allow)
    by_name = {f.component.split()[0]: f for f in findings}
    assert set(by_name) == {"b", "c", "d", "f", "g", "h"}
    assert by_name["b"].kind == "license_not_allowed"
    assert by_name["b"].message == "licence BSD-2-Clause not in the allow-list for b 1.2"
    assert by_name["c"].kind == "license_unknown"
    assert by_name["d"].kind == "license_unknown"
    assert by_name["f"].kind == "license_not_allowed"
    assert by_name["g"].kind == "license_unknown"
    assert by_name["h"].kind == "license_unknown"


def test_deny_wins_over_allow():
    findings = check_licenses([comp("GPL-3.0-only")], ["GPL-3.0"], ["GPL-3.0-only"])
    assert [f.kind for f in findings] == ["license_denied"]


def test_missing_licence_passes_without_allow_list():
    assert check_licenses([comp(None), comp(""), comp("NOASSERTION")], DENY, None) == []


def test_cyclonedx_shaped_components_and_wrappers():
    cdx = {
        "name": "x",
        "version": "2",
        "licenses": [{"license": {"id": "MIT"}}, {"license": {"id": "GPL-3.0-only"}}],
    }
    findings = check_licenses({"components": [cdx]}, DENY, None)
    assert [f.kind for f in findings] == ["license_denied"]
    assert check_licenses([{"name": "y", "licenses": ["MIT"]}], DENY, None) == []


def test_check_licenses_bad_input():
    with pytest.raises(GateInputError):
        check_licenses(["MIT"], DENY, None)
    with pytest.raises(GateInputError):
        check_licenses("MIT", DENY, None)
    with pytest.raises(GateInputError):
        check_licenses([], "GPL-3.0", None)
    with pytest.raises(GateInputError):
        check_licenses([], [""], None)
