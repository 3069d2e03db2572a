"""Inputs shared by the security gate tests (tests/gates/stats/test_security_*.py).

Credentials are built at run time from pieces and seeded random characters, so that no
string in the tests looks like a real secret to a repository scanner. The draws from `_RNG`
happen in a fixed order: here at import, then in test_security_secrets.py's case lists, which
put the values into their test ids. A draw added at import time anywhere else shifts those
values, and with them the ids.
"""

from __future__ import annotations

import base64
import json
import random
import string

from governance.gates.stats.security import HEX_ENTROPY_THRESHOLD, scan_secrets, shannon_entropy

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


def comp(license, name="libfoo", version="1.2"):
    return {"name": name, "version": version, "license": license}


DENY = ["AGPL-3.0", "GPL-3.0"]
