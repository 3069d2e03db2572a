"""Tests of the pure security gate: secrets, PII, SBOM, licences.

Credentials used here are built at run time from pieces and seeded random characters,
so that no string in this file looks like a real secret to a repository scanner.
"""

from __future__ import annotations

import base64
import json
import random
import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.gates.stats.outcome import FAILED, PASSED, GateInputError
from governance.gates.stats.security import (
    CYCLONEDX_SCHEMA,
    HEX_ENTROPY_THRESHOLD,
    PII_FINDINGS_PER_COLUMN,
    base64_entropy_threshold,
    check_licenses,
    check_sbom,
    components_from_sbom,
    iban_valid,
    luhn_valid,
    mask_value,
    scan_pii,
    scan_secrets,
    security_gate,
    shannon_entropy,
)

_RNG = random.Random(20240501)
ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEXCHARS = "0123456789abcdef"


def rand(alphabet: str, n: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def strong(n: int) -> str:
    """A random alphanumeric string that mixes upper, lower and digits."""
    while True:
        s = rand(ALNUM, n)
        if any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s):
            return s


def high_entropy_token(n: int) -> str:
    """A random token the high-entropy detector flags (a few per cent are not)."""
    while True:
        token = strong(n)
        found = scan_secrets({"probe": f"value {token}"})
        if [f.kind for f in found] == ["high_entropy_string"]:
            return token


AWS_ACCESS = "AK" + "IA" + rand(UPPER_DIGITS, 16)
AWS_SECRET = strong(38) + "/+"
GITHUB = "gh" + "p_" + strong(36)
GITHUB_PAT = "github" + "_pat_" + strong(22) + "_" + strong(59)
SLACK = "xo" + "xb-" + rand(string.digits, 12) + "-" + rand(string.digits, 13) + "-" + strong(24)
SLACK_HOOK = (
    "https://hooks.slack.com/services/T" + rand(UPPER_DIGITS, 8) + "/B" + rand(UPPER_DIGITS, 8) + "/" + strong(24)
)
GOOGLE = "AI" + "za" + strong(35)
STRIPE = "sk" + "_live_" + strong(24)
JWT = (
    base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    + "."
    + base64.urlsafe_b64encode(b'{"sub":"1234567890","name":"A"}').decode().rstrip("=")
    + "."
    + strong(43)
)
PASSWORD = "Tr0ub4dor&3-" + rand(string.ascii_lowercase, 4)
API_KEY = strong(32)
URL_PASSWORD = strong(12)
HIGH_ENTROPY = high_entropy_token(40)
HEX_SECRET = rand(HEXCHARS, 48)
assert shannon_entropy(HEX_SECRET) >= HEX_ENTROPY_THRESHOLD
PEM_BODY = strong(64)
PEM = "-----BEGIN " + f"RSA PRIVATE KEY-----\n{PEM_BODY}\n{strong(64)}\n-----END " + "RSA PRIVATE KEY-----"


def gate_json(result) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False)


# ------------------------------------------------------------------------------------
# masking and entropy
# ------------------------------------------------------------------------------------


def test_mask_value_format():
    assert mask_value(AWS_ACCESS) == AWS_ACCESS[:4] + "…(20 chars)"
    assert mask_value("abcdef") == "ab…(6 chars)"  # short values reveal a third at most
    assert mask_value("") == "…(0 chars)"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_mask_never_contains_the_value(value):
    assert value not in mask_value(value)


@pytest.mark.parametrize("value", ["ab…(8 ch", "…(10 chars", "(9 chars)", "<redacted>", "*"])
def test_mask_adversarial_values(value):
    assert value not in mask_value(value)


def test_entropy_and_thresholds():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert base64_entropy_threshold(20) == pytest.approx(3.60, abs=0.01)
    assert base64_entropy_threshold(40) == pytest.approx(4.37, abs=0.01)
    assert base64_entropy_threshold(1000) == 4.9
    assert HEX_ENTROPY_THRESHOLD == 3.0


def test_random_keys_are_found_with_high_probability():
    rng = random.Random(7)
    tokens = ["".join(rng.choice(ALNUM + "+/") for _ in range(40)) for _ in range(300)]
    found = scan_secrets({"f.txt": "\n".join(f"value {t}" for t in tokens)})
    assert len(found) >= 0.97 * len(tokens)
    assert {f.kind for f in found} == {"high_entropy_string"}


# ------------------------------------------------------------------------------------
# secrets: every kind, with file, line and masked value
# ------------------------------------------------------------------------------------

SECRET_CASES = [
    ("aws_access_key", f"aws_access_key_id: {AWS_ACCESS}", AWS_ACCESS),
    ("aws_secret_key", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    ("aws_secret_key", f'"SecretAccessKey": "{AWS_SECRET}",', AWS_SECRET),
    ("github_token", f"GITHUB_TOKEN={GITHUB}", GITHUB),
    ("github_token", f"token_for_ci: {GITHUB_PAT}", GITHUB_PAT),
    ("slack_token", f"slack: {SLACK}", SLACK),
    ("slack_webhook", f"webhook: {SLACK_HOOK}", SLACK_HOOK),
    ("google_api_key", f'maps_key = "{GOOGLE}"', GOOGLE),
    ("stripe_key", f"stripe: {STRIPE}", STRIPE),
    ("jwt", f"Authorization: Bearer {JWT}", JWT),
    ("password_assignment", f'  password: "{PASSWORD}"', PASSWORD),
    ("password_assignment", f"DB_PASSWORD={PASSWORD}", PASSWORD),
    ("password_assignment", f'{{"dbPassword": "{PASSWORD}"}}', PASSWORD),
    ("api_key_assignment", f"api_key: {API_KEY}", API_KEY),
    ("api_key_assignment", f"client_secret='{API_KEY}'", API_KEY),
    ("api_key_assignment", f"X_AUTH_TOKEN: {API_KEY}", API_KEY),
    (
        "url_credentials",
        f"db: postgres://svc:{URL_PASSWORD}@db.internal:5432/x",
        URL_PASSWORD,
    ),
    ("high_entropy_string", f"  - {HIGH_ENTROPY}", HIGH_ENTROPY),
    ("high_entropy_string", f"blob: {HEX_SECRET}", HEX_SECRET),
    # "sha" inside a word is not a hash label
    ("high_entropy_string", f"shared_blob: {HIGH_ENTROPY}", HIGH_ENTROPY),
    ("api_key_assignment", f"sharedSecret: {API_KEY}", API_KEY),
    # a hash label earlier on the line labels only its own value
    (
        "high_entropy_string",
        f'{{"artifact_sha256": "{rand(HEXCHARS, 64)}", "blob": "{HIGH_ENTROPY}"}}',
        HIGH_ENTROPY,
    ),
]


@pytest.mark.parametrize(("kind", "line", "secret"), SECRET_CASES)
def test_each_secret_kind_is_found_at_its_line_and_masked(kind, line, secret):
    text = f"# header\nmodel: credit-risk\n{line}\nother: 1\n"
    found = scan_secrets({"config.yaml": text})
    assert [(f.kind, f.file, f.line) for f in found] == [(kind, "config.yaml", 3)]
    assert found[0].masked == mask_value(secret)
    assert secret not in json.dumps(found[0].to_dict())
    assert found.counts == {"config.yaml": 1}

    result = security_gate(checks=["secrets"], text_files={"config.yaml": text})
    assert result.status == FAILED
    assert result.value == 1
    dumped = gate_json(result)
    assert secret not in dumped
    assert "config.yaml line 3" in result.explanation


def test_private_key_block_reported_once_at_begin_line():
    text = f"name: x\n{PEM}\nafter: 1\n"
    found = scan_secrets({"deploy/key.pem": text})
    assert [(f.kind, f.line) for f in found] == [("private_key", 2)]
    result = security_gate(checks=["secrets"], text_files={"deploy/key.pem": text})
    assert PEM_BODY not in gate_json(result)


def test_unterminated_private_key_and_public_certificate():
    text = "-----BEGIN " + "OPENSSH PRIVATE KEY-----\n" + strong(70) + "\n"
    assert [f.kind for f in scan_secrets({"k": text})] == ["private_key"]
    cert = "-----BEGIN CERTIFICATE-----\n" + strong(64) + "\n-----END CERTIFICATE-----\n"
    assert scan_secrets({"ca.pem": cert}) == []


def test_several_findings_per_file_sorted_and_counted():
    text = f"a: 1\nkey: {AWS_ACCESS} other {GITHUB}\n\npassword: {PASSWORD}\n"
    found = scan_secrets({"b.env": "x: 1", "a.yaml": text})
    assert [(f.file, f.line, f.kind) for f in found] == [
        ("a.yaml", 2, "aws_access_key"),
        ("a.yaml", 2, "github_token"),
        ("a.yaml", 4, "password_assignment"),
    ]
    assert found.counts == {"a.yaml": 3, "b.env": 0}
    assert found.total == 3 and not found.truncated


def test_crlf_and_bytes_input():
    text = f"a: 1\r\npassword: {PASSWORD}\r\n".encode()
    found = scan_secrets({"win.ini": text})
    assert [(f.line, f.kind) for f in found] == [(2, "password_assignment")]
    assert found[0].masked == mask_value(PASSWORD)


NOT_SECRETS = [
    # hashes labelled as hashes
    "artifact_sha256: " + rand(HEXCHARS, 64),
    '"training_config_sha256": "' + rand(HEXCHARS, 64) + '"',
    "code_hash: " + rand(HEXCHARS, 40),
    "commit: " + rand(HEXCHARS, 40),
    "digest: sha256:" + rand(HEXCHARS, 64),
    "image: registry.local/model@sha256:" + rand(HEXCHARS, 64),
    "checksum = " + rand(HEXCHARS, 32),
    "modelHash: " + rand(HEXCHARS, 64),
    "  hashes: [" + rand(HEXCHARS, 64) + ", " + rand(HEXCHARS, 64) + "]",
    "integrity: sha512-" + strong(86) + "==",
    # UUIDs, identifiers, paths, URLs, dates, versions
    "run_id: 123e4567-e89b-12d3-a456-426614174000",
    "run_id: 123E4567-E89B-12D3-A456-426614174000",
    "snapshot: credit-risk-2024-01-15-snapshot-v12",
    "path: s3://bucket/feature_store/2024/01/15/part-0001",
    "arch: ResNet50_ImageNet1k_v2_pretrained",
    "cls: TransformerEncoderLayerConfiguration",
    "env: PYTHONHASHSEED_0_deterministic_True",
    "weights: https://example.org/models/resolve/" + rand(HEXCHARS, 40) + "/w.bin",
    "name: xgboost_classifier_v3_hyperparams_20240115",
    "created: 2024-01-15T10:11:12Z",
    "version: 1.24.3",
    # tokenizer and other "token" keys that are not credentials
    "max_tokens: 512",
    "tokenizer: bert-base-uncased",
    'pad_token: "[PAD]"',
    'eos_token: "</s>"',
    "num_tokens: 1234567890",
    "token_count: 42",
    # placeholders and references, not values
    "api_key: ${API_KEY}",
    "password: ${DB_PASSWORD}",
    'password: "{{ vault_db_password }}"',
    "password: <redacted>",
    "password: ********",
    "password: changeme",
    "password: null",
    'password: ""',
    "password:",
    "secret: env:MODEL_SECRET",
    "api_key: vault:secret/data/model#key",
    "password_file: /run/secrets/db",
    "password_min_length: 12",
    "url: postgres://svc:${DB_PASSWORD}@db/x",
    # base64 images in model cards
    "![roc](data:image/png;base64," + strong(120) + ")",
]


@pytest.mark.parametrize("line", NOT_SECRETS)
def test_known_false_positives_are_not_flagged(line):
    assert scan_secrets({"config.yaml": f"a: 1\n{line}\n"}) == []


def test_code_files_ignore_bare_variables_but_catch_literals():
    code = "def connect(args):\n    password = args.password\n    token = get_token()\n"
    assert scan_secrets({"train.py": code}) == []
    code2 = f'API_KEY = "{API_KEY}"\nsecret = os.environ["SECRET"]\n'
    found = scan_secrets({"train.py": code2})
    assert [(f.kind, f.line) for f in found] == [("api_key_assignment", 1)]


def test_long_pathological_lines_are_scanned_without_false_findings():
    # Inputs that made two earlier patterns backtrack quadratically; they must finish and find nothing.
    for text in ("a" * 200_000, "a:" * 100_000, "a-" * 100_000, "x://" * 50_000):
        assert scan_secrets({"big": text}) == []


def test_scan_secrets_rejects_bad_input():
    with pytest.raises(GateInputError):
        scan_secrets(["not", "a", "mapping"])
    with pytest.raises(GateInputError):
        scan_secrets({"a": 12})
    assert scan_secrets(None) == []


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_scan_secrets_never_leaks_what_it_finds(text):
    found = scan_secrets({"f": text})
    for f in found:
        assert f.file == "f" and 1 <= f.line <= text.count("\n") + 1
        assert f.masked.endswith(" chars)")


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


# ------------------------------------------------------------------------------------
# SBOM
# ------------------------------------------------------------------------------------


def make_sbom(**overrides):
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2024-05-01T10:00:00Z",
            "component": {"type": "machine-learning-model", "name": "credit-risk"},
        },
        "components": [
            {
                "type": "library",
                "bom-ref": "pkg:pypi/numpy@1.26.4",
                "name": "numpy",
                "version": "1.26.4",
                "purl": "pkg:pypi/numpy@1.26.4",
                "licenses": [{"license": {"id": "BSD-3-Clause"}}],
                "hashes": [{"alg": "SHA-256", "content": "a" * 64}],
            },
            {
                "type": "library",
                "bom-ref": "pkg:pypi/scikit-learn@1.4.2",
                "name": "scikit-learn",
                "version": "1.4.2",
                "licenses": [{"expression": "BSD-3-Clause OR MIT"}],
            },
        ],
        "dependencies": [
            {
                "ref": "pkg:pypi/scikit-learn@1.4.2",
                "dependsOn": ["pkg:pypi/numpy@1.26.4"],
            }
        ],
    }
    sbom.update(overrides)
    return sbom


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


# ------------------------------------------------------------------------------------
# Licences
# ------------------------------------------------------------------------------------


def comp(license, name="libfoo", version="1.2"):
    return {"name": name, "version": version, "license": license}


DENY = ["AGPL-3.0", "GPL-3.0"]


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


# ------------------------------------------------------------------------------------
# the gate
# ------------------------------------------------------------------------------------


def test_gate_passes_when_everything_is_clean():
    result = security_gate(
        sbom=make_sbom(),
        licenses=None,
        text_files={"config.yaml": "lr: 0.01\nseed: 42\n"},
        feature_samples={"age": ["31", "45"], "income": [1000.0, 2000.5]},
        license_deny=DENY,
        license_allow=None,
    )
    assert result.status == PASSED and result.passed
    assert result.metric == "security_findings"
    assert result.value == 0 and result.threshold == 0
    assert result.groups == {
        "sbom": {"findings": 0, "by_kind": {}},
        "licenses": {"findings": 0, "by_kind": {}},
        "secrets": {"findings": 0, "by_kind": {}},
        "pii": {"findings": 0, "by_kind": {}, "by_column": {}},
    }
    assert result.explanation == (
        "sbom: 0 SBOM problems; licenses: 0 licence problems in 2 components from the "
        "SBOM; secrets: 0 secrets in 1 file; pii: 0 PII values in 2 columns → passed"
    )
    json.dumps(result.to_dict())


def test_gate_fails_and_explains_each_check():
    config = f"a: 1\nb: 2\nkey_id: {AWS_ACCESS}\nc: 3\nd: 4\ne: 5\npassword: {PASSWORD}\n"
    result = security_gate(
        checks=["licenses", "secrets", "pii"],
        sbom=None,
        licenses=[comp("GPL-3.0"), comp("MIT", "ok", "1")],
        text_files={"config.yaml": config},
        feature_samples={"email": ["a@example.com"]},
        license_deny=DENY,
        license_allow=None,
    )
    assert result.status == FAILED
    assert result.value == 4
    assert result.groups["secrets"] == {
        "findings": 2,
        "by_kind": {"aws_access_key": 1, "password_assignment": 1},
    }
    assert result.groups["licenses"]["findings"] == 1
    assert "sbom" not in result.groups
    expl = result.explanation
    assert "licenses: 1 licence problem in 2 components from the licences artifact" in expl
    assert "(licence GPL-3.0 denied for libfoo 1.2)" in expl
    assert (
        "secrets: 2 secrets in 1 file (config.yaml line 3 aws_access_key; config.yaml line 7 password_assignment)"
    ) in expl
    assert "pii: 1 PII value in 1 column (email in email row 0)" in expl
    assert expl.endswith("→ failed")
    dumped = gate_json(result)
    for raw in (AWS_ACCESS, PASSWORD, "a@example.com"):
        assert raw not in dumped
    kinds = [f["kind"] for f in result.details["findings"]]
    assert kinds == ["license_denied", "aws_access_key", "password_assignment", "email"]


def test_gate_missing_sbom_and_licence_evidence():
    result = security_gate(checks=["sbom", "licenses"], license_deny=DENY)
    assert result.status == FAILED
    assert result.groups["sbom"]["by_kind"] == {"sbom_missing": 1}
    assert result.groups["licenses"]["by_kind"] == {"license_evidence_missing": 1}


def test_gate_takes_licences_from_sbom_when_no_artifact():
    sbom = make_sbom()
    sbom["components"][0]["licenses"] = [{"license": {"id": "AGPL-3.0-or-later"}}]
    result = security_gate(checks=["licenses"], sbom=sbom, license_deny=DENY)
    assert result.status == FAILED
    assert "licence AGPL-3.0-or-later denied for numpy 1.26.4" in result.explanation
    # a separate licences artifact takes precedence over the SBOM
    result = security_gate(checks=["licenses"], sbom=sbom, licenses=[comp("MIT")], license_deny=DENY)
    assert result.status == PASSED


def test_gate_invalid_sbom_names_paths():
    result = security_gate(checks=["sbom"], sbom=make_sbom(bomFormat="SPDX"))
    assert result.status == FAILED
    assert "$.bomFormat: must be 'CycloneDX'" in result.explanation


def test_gate_caps_details_but_counts_everything():
    lines = "\n".join(f"svc{i}_token: {strong(40)}" for i in range(150))
    result = security_gate(checks=["secrets"], text_files={"big.txt": lines})
    assert result.value == 150
    assert len(result.details["findings"]) == 100
    assert result.details["findings_truncated"] is True
    assert "… 145 more" in result.explanation


@pytest.mark.parametrize(
    "checks",
    [["sbom", "antivirus"], [], "secrets", 3],
    ids=["unknown", "empty", "str", "int"],
)
def test_gate_rejects_bad_checks(checks):
    with pytest.raises(GateInputError):
        security_gate(checks=checks)


def test_gate_without_inputs_to_scan_reports_zero_scanned():
    result = security_gate(checks=["secrets", "pii"])
    assert result.status == PASSED
    assert "0 files" in result.explanation and "0 columns" in result.explanation
