"""Tests of the security gate's PII scan of feature samples, and of the Luhn and IBAN
checks it relies on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.gates.stats.outcome import FAILED, GateInputError
from governance.gates.stats.security import (
    PII_FINDINGS_PER_COLUMN,
    iban_valid,
    luhn_valid,
    mask_value,
    scan_pii,
    security_gate,
)
from tests.gates.stats.security_inputs import gate_json

# ------------------------------------------------------------------------------------
# Luhn, IBAN
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5500000000000004",
        "378282246310005",
        "6011111111111117",
        "3530111333300000",
        "4012888888881881",
        "79927398713",
    ],
)
def test_luhn_valid(number):
    assert luhn_valid(number)


@pytest.mark.parametrize(
    "number",
    ["4111111111111112", "5500000000000005", "79927398710", "", "4", "4111x111"],
)
def test_luhn_invalid(number):
    assert not luhn_valid(number)


def luhn_check_digit(payload: str) -> str:
    for d in "0123456789":
        if luhn_valid(payload + d):
            return d
    raise AssertionError("no check digit")


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_appending_check_digit_validates(payload):
    digit = luhn_check_digit(payload)
    assert luhn_valid(payload + digit)
    # exactly one check digit works
    assert sum(luhn_valid(payload + d) for d in "0123456789") == 1


@given(st.text(alphabet="0123456789", min_size=12, max_size=18), st.data())
def test_luhn_detects_any_single_digit_change(payload, data):
    number = payload + luhn_check_digit(payload)
    i = data.draw(st.integers(0, len(number) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != number[i]]))
    assert not luhn_valid(number[:i] + new + number[i + 1 :])


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "gb82 west 1234 5698 7654 32",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "NO9386011117947",
        "BE68539007547034",
        "CH9300762011623852957",
    ],
)
def test_iban_valid(iban):
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # check digits wrong
        "GB82WEST12345698765433",
        "DE8937040044053201300",  # too short for DE
        "XX89370400440532013000",  # unknown country
        "DE8937040044053201300X0",
        "",
        None,
    ],
)
def test_iban_invalid(iban):
    assert not iban_valid(iban)


def test_iban_follows_the_registry_format_of_its_country():
    # python-stdnum knows every ISO 13616 country (Libya was missing from our own table) and
    # each country's BBAN format: a GB IBAN starts with a four-letter bank code, so all
    # digits with correct check digits is not one.
    assert iban_valid("LY83002048000020100120361")
    assert not iban_valid("GB91824791018411163032")


@given(st.text(alphabet="0123456789", min_size=18, max_size=18))
def test_iban_computed_check_digits_validate(bban):
    numeric = int(bban + "1314" + "00")  # D=13, E=14
    check = 98 - numeric % 97
    iban = f"DE{check:02d}{bban}"
    assert iban_valid(iban)
    wrong = f"DE{(check % 97) + 1:02d}{bban}" if check != 97 else f"DE02{bban}"
    assert not iban_valid(wrong)


# ------------------------------------------------------------------------------------
# PII
# ------------------------------------------------------------------------------------

PII_CASES = [
    (
        "email",
        "contact: jane.doe+risk@example.co.uk please",
        "jane.doe+risk@example.co.uk",
    ),
    ("phone", "+14155552671", "+14155552671"),
    ("phone", "call +44 20 7946 0958 today", "+44 20 7946 0958"),
    ("phone", "(212) 555-0187", "(212) 555-0187"),
    ("phone", "212-555-0187", "212-555-0187"),
    ("phone", "020 7946 0958", "020 7946 0958"),
    ("phone", "07700 900123", "07700 900123"),
    ("payment_card", "4111111111111111", "4111111111111111"),
    ("payment_card", "card 4111 1111 1111 1111 exp", "4111 1111 1111 1111"),
    ("payment_card", "5500-0000-0000-0004", "5500-0000-0000-0004"),
    ("payment_card", "3782 822463 10005", "3782 822463 10005"),
    ("payment_card", "6011111111111117", "6011111111111117"),
    ("us_ssn", "ssn 536-22-5432", "536-22-5432"),
    ("us_ssn", "536 22 5432", "536 22 5432"),
    ("uk_nino", "NI AB123456C", "AB123456C"),
    ("uk_nino", "ab 12 34 56 c", "ab 12 34 56 c"),
    ("iban", "pay to GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"),
    ("iban", "DE89370400440532013000", "DE89370400440532013000"),
]


@pytest.mark.parametrize(("kind", "cell", "value"), PII_CASES)
def test_each_pii_kind_is_found(kind, cell, value):
    found = scan_pii({"notes": ["nothing here", cell]})
    assert [(f.kind, f.column, f.row) for f in found] == [(kind, "notes", 1)]
    assert found[0].masked == mask_value(value)
    assert found.counts == {"notes": 1}
    result = security_gate(checks=["pii"], feature_samples={"notes": ["x", cell]})
    assert result.status == FAILED
    assert value not in gate_json(result)


NOT_PII = [
    "4111111111111112",  # fails Luhn
    "4111 1111 1111 1112",
    "1234567812345678",  # no card brand starts with 1
    "0000000000000000",
    "000-12-3456",  # SSN area 000
    "666-12-3456",  # SSN area 666
    "912-12-3456",  # SSN area 9xx
    "536-00-5432",  # SSN group 00
    "536-22-0000",  # SSN serial 0000
    "078-05-1120",  # the famous wallet SSN
    "457-55-5462",  # published in advertising (python-stdnum's list)
    "123-45-6789",  # the textbook example, kept on top of python-stdnum's list
    "QQ123456C",  # NINO: Q not allowed first
    "GB123456A",  # NINO: GB prefix not allowed
    "AB123456E",  # NINO: suffix must be A-D
    "GB82WEST12345698765433",  # IBAN bad check digits
    "2024-01-15",
    "2024-01-15T10:11:12Z",
    "12.5",
    "1234567",
    "9876543210",  # bare 10 digits: an id, not a phone
    "555-123-4567",  # NANP exchange cannot start with 1
    "v1.2.3",
    "user at example dot com",
    "192.168.10.200",
    "123e4567-e89b-12d3-a456-426614174000",
]


@pytest.mark.parametrize("cell", NOT_PII)
def test_pii_false_positives(cell):
    assert scan_pii({"c": [cell]}) == []


def test_bare_nine_digits_are_ssn_only_in_ssn_columns():
    assert scan_pii({"customer_id": ["536225432"]}) == []
    found = scan_pii({"applicant_ssn": ["536225432", "000225432", None]})
    assert [(f.kind, f.row) for f in found] == [("us_ssn", 0)]


def test_pii_counts_all_but_stores_a_capped_number():
    emails = [f"user{i}@example.com" for i in range(50)]
    found = scan_pii({"email": emails, "age": [str(i) for i in range(50)]})
    assert len(found) == PII_FINDINGS_PER_COLUMN == 20
    assert found.total == 50 and found.truncated
    assert found.counts == {"email": 50, "age": 0}
    assert [f.row for f in found] == list(range(20))
    result = security_gate(checks=["pii"], feature_samples={"email": emails})
    assert result.value == 50
    assert result.groups["pii"]["findings"] == 50
    assert result.groups["pii"]["by_column"] == {"email": 50}
    assert result.details["findings_total"] == 50
    assert len(result.details["findings"]) == 20
    assert "50 PII values in 1 column" in result.explanation
    assert "user7@example.com" not in gate_json(result)


def test_pii_accepts_numpy_and_non_string_cells():
    col = np.array(["a@b.io", None, float("nan"), 4111111111111111, b"x"], dtype=object)
    found = scan_pii({"mixed": col, "floats": np.array([1.5, np.nan])})
    assert [(f.kind, f.row) for f in found] == [("email", 0), ("payment_card", 3)]
    strings = np.array(["call (212) 555-0187", "ok"])
    assert [f.kind for f in scan_pii({"s": strings})] == ["phone"]


def test_scan_pii_rejects_bad_input():
    with pytest.raises(GateInputError):
        scan_pii({"c": "a string is not a column"})
    with pytest.raises(GateInputError):
        scan_pii([1, 2])


def test_several_pii_in_one_cell():
    found = scan_pii({"c": ["jane@example.com, 4111111111111111, +14155552671"]})
    assert sorted(f.kind for f in found) == ["email", "payment_card", "phone"]
