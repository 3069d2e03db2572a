"""Tests of the security gate's secret scan: every kind, with file, line and masked value,
the entropy detector and the known false positives."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.gates.stats.outcome import FAILED, GateInputError
from governance.gates.stats.security import (
    HEX_ENTROPY_THRESHOLD,
    base64_entropy_threshold,
    mask_value,
    scan_secrets,
    security_gate,
    shannon_entropy,
)
from tests.gates.stats.security_inputs import (
    ALNUM,
    API_KEY,
    AWS_ACCESS,
    AWS_SECRET,
    GITHUB,
    GITHUB_PAT,
    GOOGLE,
    HEX_SECRET,
    HEXCHARS,
    HIGH_ENTROPY,
    JWT,
    PASSWORD,
    PEM,
    PEM_BODY,
    SLACK,
    SLACK_HOOK,
    STRIPE,
    URL_PASSWORD,
    gate_json,
    rand,
    strong,
)

# ------------------------------------------------------------------------------------
# entropy
# ------------------------------------------------------------------------------------


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
