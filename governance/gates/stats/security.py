"""Security gate: secrets, PII, SBOM and licence checks over plain Python data.

Pure: no Django, no Celery, no file or network I/O, no clock. `gates/tasks.py` loads the
evidence (SBOM JSON, licences artifact, text artifacts/configs, feature samples) and calls
`security_gate`.

Nothing this module returns ever contains a detected secret or PII value: values are
reported masked by `mask_value` (a short prefix, an ellipsis and the length).

Decisions worth knowing (also in the docstrings below):

* High-entropy strings: a token is a maximal run of base64/base64url characters
  (``A-Z a-z 0-9 + / _ -`` with up to two trailing ``=``) of >= 20 characters.
  - hex tokens (only ``0-9a-f``, at least one digit and one letter) are flagged when their
    Shannon entropy is >= ``HEX_ENTROPY_THRESHOLD`` = 3.0 bits/char;
  - other tokens must mix upper case, lower case and digits, must not be mostly words
    (identifier-like: >= 75 % of their letters/digits in runs of >= 3 lower-case letters,
    optionally capitalised, or >= 4 capitals), and their entropy must reach
    ``base64_entropy_threshold(n)`` = 0.255 + 0.774 * log2(n) bits/char, capped at 4.9
    (≈ 3.6 at 20 chars, 4.1 at 32, 4.4 at 40, 4.9 at 64+): about the 1st percentile of
    the entropy of uniformly random base64 strings of that length, so a random key of
    >= 24 characters is found with probability > 95 % while identifiers, paths, dates
    and version strings are not.
  - Not flagged: UUIDs; values of a key labelled as a hash (the last ``key:``/``key=``
    before the token on its line, snake-cased; or the line itself when there is no key;
    label words ``sha*``, ``hash``/``hashes``, ``digest``, ``checksum``, ``md5``,
    ``crc*``, ``etag``, ``fingerprint``, ``commit``, ``revision``, ``rev`` as whole
    words, so ``shared_secret`` is not a label); ``sha256:<hex>``-style digests and
    ``sha512-<b64>`` integrity strings;
    ``data:...;base64,`` payloads; anything inside a URL; PEM blocks (a private key block
    is reported once, as ``private_key``); spans already reported by a specific detector.
* Licences: SPDX ids are compared case-insensitively after stripping the ``-only`` and
  ``-or-later`` suffixes and a trailing ``+``, so ``GPL-3.0`` (the deprecated id) matches
  ``GPL-3.0-only``, ``GPL-3.0-or-later`` and ``GPL-3.0+`` in both directions, for deny and
  allow lists alike. ``AGPL-3.0`` and ``LGPL-3.0`` are different licences from ``GPL-3.0``
  (no substring matching). ``WITH <exception>`` is ignored for the verdict (the licence it
  modifies is judged). ``OR``: passes if any alternative is acceptable; ``AND``: fails if
  any conjunct is not. Several entries in a CycloneDX ``licenses`` array are treated as a
  conjunction (conservative).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from governance.core.vocabulary import SECURITY_CHECKS

from .outcome import FAILED, PASSED, GateInputError, GateResult

__all__ = [
    "ALL_CHECKS",
    "CYCLONEDX_SCHEMA",
    "HEX_ENTROPY_THRESHOLD",
    "PII_FINDINGS_PER_COLUMN",
    "Finding",
    "Findings",
    "base64_entropy_threshold",
    "check_licenses",
    "check_sbom",
    "components_from_sbom",
    "iban_valid",
    "luhn_valid",
    "mask_value",
    "scan_pii",
    "scan_secrets",
    "security_gate",
    "shannon_entropy",
]

ALL_CHECKS = SECURITY_CHECKS
PII_FINDINGS_PER_COLUMN = 20  # stored per column; all are counted
MAX_DETAIL_FINDINGS = 100  # findings kept in GateResult.details
MAX_EXPLAINED_PER_CHECK = 5
HEX_ENTROPY_THRESHOLD = 3.0
MIN_TOKEN_LENGTH = 20


# --------------------------------------------------------------------------------------
# Findings and masking
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem found by a check. `masked` never holds the raw value."""

    check: str  # "secrets" | "pii" | "sbom" | "licenses"
    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    column: str | None = None
    row: int | None = None
    masked: str | None = None
    component: str | None = None

    def location(self) -> str:
        if self.file is not None:
            return f"{self.file} line {self.line}" if self.line else self.file
        if self.column is not None:
            return f"column {self.column} row {self.row}"
        if self.component is not None:
            return self.component
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("check", self.check),
                ("kind", self.kind),
                ("message", self.message),
                ("file", self.file),
                ("line", self.line),
                ("column", self.column),
                ("row", self.row),
                ("masked", self.masked),
                ("component", self.component),
            )
            if v is not None
        }


class Findings(list):
    """A list of `Finding`, possibly capped, that still knows how many there were.

    `counts` maps a location (file name, column name) to the number of findings there,
    including those not stored; `total` is the number of findings, stored or not.
    """

    def __init__(
        self,
        items: Iterable[Finding] = (),
        *,
        counts: Mapping[str, int] | None = None,
        total: int | None = None,
    ) -> None:
        super().__init__(items)
        self.counts: dict[str, int] = dict(counts or {})
        self._total = total

    @property
    def total(self) -> int:
        return len(self) if self._total is None else self._total

    @property
    def truncated(self) -> bool:
        return self.total > len(self)


def mask_value(value: str) -> str:
    """``'AKIA…(20 chars)'``: at most 4 leading characters (a third of short values).

    Never contains `value` itself (non-empty values).
    """
    value = str(value)
    if not value:
        return "…(0 chars)"
    keep = min(4, len(value) // 3)
    n = len(value)
    # The fallbacks only matter for adversarial values such as "ab…(8 ch"; the last two
    # share no character, so no non-empty value is contained in both.
    for masked in (
        f"{value[:keep]}…({n} chars)",
        f"…({n} chars)",
        "<redacted>",
        "*" * 8,
    ):
        if value not in masked:
            return masked
    return "*" * 8


# --------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------

_PEM_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_PEM_END = re.compile(r"-----END ([A-Z0-9 ]+)-----")

# (kind, pattern, group holding the secret)
_SPECIFIC_PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    (
        "aws_access_key",
        re.compile(
            r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)"
            r"[A-Z0-9]{16})(?![A-Z0-9])"
        ),
        1,
    ),
    (
        "aws_secret_key",
        re.compile(
            r"(?i)(?:aws[_\-.]?secret(?:[_\-.]?access)?(?:[_\-.]?key)?"
            r"|secret[_\-.]?access[_\-.]?key)"
            r"[\"']?\s*(?::|=|:=|=>)\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        1,
    ),
    (
        "github_token",
        re.compile(
            r"(?<![A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}"
            r"|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"
        ),
        1,
    ),
    (
        "slack_token",
        re.compile(r"(?<![A-Za-z0-9])(xox[abposr]-[A-Za-z0-9-]{10,})(?![A-Za-z0-9-])"),
        1,
    ),
    (
        "slack_webhook",
        re.compile(
            r"(https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/"
            r"[A-Za-z0-9]+)"
        ),
        1,
    ),
    (
        "google_api_key",
        re.compile(r"(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_\-]{35})(?![A-Za-z0-9_-])"),
        1,
    ),
    (
        "stripe_key",
        re.compile(r"(?<![A-Za-z0-9_])((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,})(?![A-Za-z0-9])"),
        1,
    ),
    (
        "jwt",
        re.compile(
            r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}"
            r"\.[A-Za-z0-9_-]{10,})(?![A-Za-z0-9_-])"
        ),
        1,
    ),
    (
        "url_credentials",
        re.compile(
            r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,30}://"
            r"[^\s:/@'\"]{1,200}:([^\s:/@'\"]{1,200})@[^\s/]"
        ),
        1,
    ),
]

_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.])(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,100})[\"']?\s*(?::=|=>|:|=)[ \t]*"
    r"(?:\"(?P<dq>[^\"\n]*)\"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s,;#}\]\"'`]+))"
)
_PASSWORD_KEYS = {"password", "passwd", "pwd", "passphrase", "pass"}
_API_KEY_SUFFIXES = (
    "api_key",
    "apikey",
    "secret",
    "secret_key",
    "token",
    "access_token",
    "auth_token",
    "refresh_token",
    "bearer_token",
    "client_secret",
    "access_key",
    "private_key",
    "signing_key",
    "encryption_key",
    "auth_key",
)
# Tokenizer special tokens and other "token" keys that are not credentials.
_NOT_SECRET_SEGMENTS = {
    "pad",
    "eos",
    "bos",
    "unk",
    "cls",
    "mask",
    "sep",
    "special",
    "start",
    "end",
    "max",
    "min",
    "num",
    "n",
    "hash",
    "sha",
    "sha1",
    "sha256",
    "digest",
    "file",
    "path",
    "env",
    "name",
    "id",
    "length",
    "len",
    "type",
    "url",
}
_PLACEHOLDERS = {
    "",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "yes",
    "no",
    "changeme",
    "change_me",
    "change-me",
    "password",
    "secret",
    "redacted",
    "todo",
    "tbd",
    "example",
    "dummy",
    "placeholder",
    "your_password",
    "your-password",
    "your_api_key",
    "your-api-key",
    "your_token",
    "xxx",
}
_CODE_EXTENSIONS = (".py", ".js", ".ts", ".java", ".go", ".rb", ".scala", ".kt", ".r")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")

_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/_=-])")
_HEX = re.compile(r"[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Searched in the snake_cased, lower-cased text before a token on its line.
_HASH_LABEL = re.compile(
    r"(?<![a-z])(?:sha\d*|hash(?:es)?|digest|checksum|md5|crc\d*|etag|fingerprint"
    r"|commit|revision|rev)(?![a-z])"
)
_DIGEST_PREFIX = re.compile(r"(?i)(?:sha\d*|md5|blake\w*)[:=]$")
_SRI_PREFIX = re.compile(r"(?i)^(?:sha\d+|md5|blake\w*)-")
_WORD_RUN = re.compile(r"[A-Z]?[a-z]{3,}|[A-Z]{4,}")
_URL_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S*$")


_KEY_BEFORE = re.compile(r"([A-Za-z0-9_.\-]{1,100})[\"']?\s*[:=]")
_CONTEXT = 160  # characters before a token looked at for labels and URLs


def _labelled_as_hash(prefix: str) -> bool:
    """Is the key a token belongs to (the last ``key:``/``key=`` before it on its line,
    or the line's text when there is none) labelled as a hash?"""
    keys = [m.group(1) for m in _KEY_BEFORE.finditer(prefix)]
    keys = [k for k in keys if not k.lower().startswith(("http", "s3", "gs", "file"))]
    context = keys[-1] if keys else prefix
    return bool(_HASH_LABEL.search(_snake(context)))


def shannon_entropy(s: str) -> float:
    """Shannon entropy of the characters of `s`, in bits per character."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def base64_entropy_threshold(n: int) -> float:
    """Entropy (bits/char) a base64-like token of length `n` must reach to be flagged."""
    return min(4.9, 0.255 + 0.774 * math.log2(max(n, 1)))


def _word_coverage(token: str) -> float:
    alnum = sum(ch.isalnum() for ch in token)
    if not alnum:
        return 1.0
    return sum(len(m.group()) for m in _WORD_RUN.finditer(token)) / alnum


def _is_high_entropy(token: str) -> bool:
    core = token.rstrip("=")
    if len(core) < MIN_TOKEN_LENGTH:
        return False
    if _HEX.fullmatch(core):
        has_digit = any(c.isdigit() for c in core)
        has_alpha = any(c.isalpha() for c in core)
        return has_digit and has_alpha and shannon_entropy(core) >= HEX_ENTROPY_THRESHOLD
    if not (any(c.isupper() for c in core) and any(c.islower() for c in core) and any(c.isdigit() for c in core)):
        return False
    if _word_coverage(core) >= 0.75:
        return False
    return shannon_entropy(core) >= base64_entropy_threshold(len(core))


def _snake(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()


def _normalise_key(key: str) -> list[str]:
    key = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key.strip("-"))
    return [s for s in re.split(r"[_.\-\s]+", key.lower()) if s]


def _assignment_kind(key: str) -> str | None:
    segments = _normalise_key(key)
    if not segments or any(s in _NOT_SECRET_SEGMENTS for s in segments):
        return None
    if segments[-1] in _PASSWORD_KEYS:
        return "password_assignment"
    joined = "_".join(segments)
    compact = "".join(segments)
    for suffix in _API_KEY_SUFFIXES:
        if joined == suffix or joined.endswith("_" + suffix) or compact == suffix:
            return "api_key_assignment"
    return None


def _is_placeholder(value: str) -> bool:
    v = value.strip()
    low = v.lower()
    if low in _PLACEHOLDERS or len(set(v)) <= 1:
        return True
    if v.startswith(("$", "{{", "<", "%(", "[")) or v.endswith(("}}", ">")):
        return True
    return low.startswith(("env:", "vault:", "secretref:", "ssm:", "arn:aws:secrets"))


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < e and s < end for s, e in spans)


def _secret_finding(kind: str, file: str, line: int, value: str) -> Finding:
    label = kind.replace("_", " ")
    return Finding(
        check="secrets",
        kind=kind,
        message=f"{label} in {file} line {line}",
        file=file,
        line=line,
        masked=mask_value(value),
    )


def _scan_line(file: str, lineno: int, text: str, is_code: bool) -> list[Finding]:
    found: list[Finding] = []
    spans: list[tuple[int, int]] = []

    for kind, pattern, group in _SPECIFIC_PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span(group)
            if _overlaps(spans, start, end):
                continue
            value = m.group(group)
            if kind == "url_credentials" and _is_placeholder(value):
                continue
            spans.append((start, end))
            found.append(_secret_finding(kind, file, lineno, value))

    for m in _ASSIGNMENT.finditer(text):
        kind = _assignment_kind(m.group("key"))
        if kind is None:
            continue
        for name in ("dq", "sq", "bare"):
            if m.group(name) is not None:
                value, vgroup = m.group(name), name
                break
        start, end = m.span(vgroup)
        if _overlaps(spans, start, end) or _is_placeholder(value):
            continue
        if vgroup == "bare" and (is_code or "(" in value or _DOTTED_NAME.fullmatch(value)):
            continue
        if value.lower() == m.group("key").lower():
            continue
        if kind == "password_assignment" and len(value) < 4:
            continue
        if kind == "api_key_assignment" and (len(value) < 8 or " " in value.strip()):
            continue
        spans.append((start, end))
        found.append(_secret_finding(kind, file, lineno, value))

    for m in _TOKEN.finditer(text):
        start, end = m.span()
        token = m.group()
        if _overlaps(spans, start, end) or _UUID.fullmatch(token):
            continue
        prefix = text[max(0, start - _CONTEXT) : start]
        if (
            _labelled_as_hash(prefix)
            or _DIGEST_PREFIX.search(prefix)
            or _SRI_PREFIX.match(token)
            or prefix.endswith("base64,")
            or _URL_BEFORE.search(prefix)
        ):
            continue
        if not _is_high_entropy(token):
            continue
        spans.append((start, end))
        found.append(_secret_finding("high_entropy_string", file, lineno, token))

    order = sorted(range(len(found)), key=lambda k: spans[k][0])
    return [found[k] for k in order]


def scan_secrets(files: Mapping[str, str | bytes]) -> Findings:
    """Find credentials in text artifacts/configs (name → text).

    Kinds: aws_access_key, aws_secret_key, github_token, slack_token, slack_webhook,
    private_key, google_api_key, stripe_key, jwt, url_credentials, password_assignment,
    api_key_assignment, high_entropy_string. Lines are 1-based. `counts` is per file.
    In files with a source-code extension (.py, .js, ...) only quoted values of
    password/api-key assignments are considered (a bare name there is a variable).
    """
    if files is None:
        return Findings()
    if not isinstance(files, Mapping):
        raise GateInputError("text files must be a mapping of file name to text")
    out: list[Finding] = []
    counts: dict[str, int] = {}
    for name in sorted(files, key=str):
        text = files[name]
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        if not isinstance(text, str):
            raise GateInputError(f"text file {name!r}: content must be text")
        name = str(name)
        is_code = name.lower().endswith(_CODE_EXTENSIONS)
        file_findings: list[Finding] = []
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i].rstrip("\r")
            begin = _PEM_BEGIN.search(line)
            if begin:
                label = begin.group(1)
                j = i
                while j < len(lines) and not _PEM_END.search(lines[j]):
                    j += 1
                if "PRIVATE KEY" in label:
                    block = "\n".join(lines[i : j + 1])
                    file_findings.append(_secret_finding("private_key", name, i + 1, block.strip()))
                i = j + 1
                continue
            file_findings.extend(_scan_line(name, i + 1, line, is_code))
            i += 1
        counts[name] = len(file_findings)
        out.extend(file_findings)
    return Findings(out, counts=counts)


# --------------------------------------------------------------------------------------
# PII
# --------------------------------------------------------------------------------------


def luhn_valid(number: str) -> bool:
    """Luhn (mod 10) check of a digit string; spaces and dashes are ignored."""
    digits = re.sub(r"[ \-]", "", str(number))
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Country code → IBAN length (ISO 13616 registry, the countries in common use).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(s: str) -> bool:
    """IBAN check: known country, its length, and the ISO 7064 mod-97 == 1 rule.

    Spaces are ignored and letters may be lower case. Unknown countries are invalid.
    """
    if not isinstance(s, str):
        return False
    iban = s.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return False
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def _card_brand_ok(digits: str) -> bool:
    n = len(digits)
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)  # Visa
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16  # Mastercard
    if p2 in (34, 37):
        return n == 15  # American Express
    if digits.startswith("6011") or 644 <= p3 <= 649 or p2 == 65:
        return 16 <= n <= 19  # Discover
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19  # JCB
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return 14 <= n <= 19  # Diners Club
    if p2 == 62:
        return 16 <= n <= 19  # UnionPay
    if p2 in (50, 56, 57, 58, 63, 67):
        return 12 <= n <= 19  # Maestro
    return False


def _valid_card(candidate: str) -> bool:
    digits = re.sub(r"[ \-]", "", candidate)
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _card_brand_ok(digits) and luhn_valid(digits)


def _valid_ssn(candidate: str) -> bool:
    digits = re.sub(r"[ \-]", "", candidate)
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    if area == 0 or area == 666 or area >= 900 or group == 0 or serial == 0:
        return False
    return digits not in {"078051120", "219099999", "123456789"}


_NINO_BAD_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def _valid_nino(candidate: str) -> bool:
    s = candidate.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", s):
        return False
    a, b = s[0], s[1]
    return a not in "DFIQUV" and b not in "DFIOQUV" and s[:2] not in _NINO_BAD_PREFIXES


def _digit_count(s: str) -> int:
    return sum(c.isdigit() for c in s)


def _valid_nanp(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return len(digits) == 10 and digits[0] in "23456789" and digits[3] in "23456789"


# (kind, pattern, validator) in priority order: earlier kinds claim their spans.
_PII_PATTERNS: list[tuple[str, re.Pattern[str], Any]] = [
    (
        "iban",
        re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])"),
        iban_valid,
    ),
    (
        "payment_card",
        re.compile(
            r"(?<![\d\-])(?:\d{4}([ \-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?"
            r"|\d{4}([ \-])\d{6}\2\d{4,5}"
            r"|\d{13,19})(?![\d\-])"
        ),
        _valid_card,
    ),
    (
        "us_ssn",
        re.compile(r"(?<![\d\-])\d{3}([ \-])\d{2}\1\d{4}(?![\d\-])"),
        _valid_ssn,
    ),
    (
        "uk_nino",
        re.compile(r"(?i)(?<![A-Za-z0-9])[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"),
        _valid_nino,
    ),
    (
        "email",
        re.compile(
            r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+"
            r"(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9\-])"
        ),
        None,
    ),
    (
        "phone",  # E.164 and international with separators
        re.compile(r"(?<![\w+])\+[1-9]\d{0,3}(?:[ .\-]?\(?\d{1,5}\)?){1,6}(?![\d\w])"),
        lambda s: 8 <= _digit_count(s) <= 15,
    ),
    (
        "phone",  # North American national: (212) 555-0187, 212-555-0187, 212.555.0187
        re.compile(r"(?<![\d\-.])(?:\(\d{3}\) ?|\d{3}([ .\-]))\d{3}[ .\-]\d{4}(?![\d\-.])"),
        _valid_nanp,
    ),
    (
        "phone",  # UK national: 020 7946 0958, 07700 900123, 0161-496-0000
        re.compile(r"(?<![\d\-.+])0\d{2,4}[ \-]\d{3,4}[ \-]?\d{3,4}(?![\d\-.])"),
        lambda s: _digit_count(s) in (10, 11),
    ),
]
_SSN_COLUMN = re.compile(r"(?i)(^|[_\W])(ssn|social_?security)")


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value if isinstance(value, str) else str(value)


def _scan_cell(text: str, ssn_column: bool) -> list[tuple[str, str]]:
    hits: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for kind, pattern, validator in _PII_PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span()
            if _overlaps(spans, start, end):
                continue
            value = m.group()
            if validator is not None and not validator(value):
                continue
            spans.append((start, end))
            hits.append((kind, value))
    if ssn_column:
        for m in re.finditer(r"(?<!\d)\d{9}(?!\d)", text):
            if not _overlaps(spans, *m.span()) and _valid_ssn(m.group()):
                spans.append(m.span())
                hits.append(("us_ssn", m.group()))
    return hits


def scan_pii(
    columns: Mapping[str, Iterable[Any]],
    *,
    per_column_cap: int = PII_FINDINGS_PER_COLUMN,
) -> Findings:
    """Find personal data in feature samples (column → values).

    Kinds: email, phone (E.164 / international with separators, North American and UK
    national formats), payment_card (known brand prefix and length, Luhn-valid),
    us_ssn (area 001-899 except 666, group 01-99, serial 0001-9999; formatted with
    dashes or spaces, or 9 bare digits in a column named like *ssn*), uk_nino, iban
    (mod-97). Findings stored per column are capped at `per_column_cap`; `counts`
    (per column) and `total` count them all. None/NaN cells are skipped; non-string
    cells are scanned as ``str(value)``.
    """
    if columns is None:
        return Findings()
    if not isinstance(columns, Mapping):
        raise GateInputError("feature samples must be a mapping of column to values")
    out: list[Finding] = []
    counts: dict[str, int] = {}
    for column in columns:
        values = columns[column]
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise GateInputError(f"feature samples column {column!r}: must be a sequence")
        col = str(column)
        ssn_column = bool(_SSN_COLUMN.search(col))
        n = 0
        for row, raw in enumerate(values):
            text = _cell_text(raw)
            if not text:
                continue
            for kind, value in _scan_cell(text, ssn_column):
                n += 1
                if n <= per_column_cap:
                    out.append(
                        Finding(
                            check="pii",
                            kind=kind,
                            message=f"{kind.replace('_', ' ')} in column {col} row {row}",
                            column=col,
                            row=row,
                            masked=mask_value(value),
                        )
                    )
        counts[col] = n
    return Findings(out, counts=counts, total=sum(counts.values()))


# --------------------------------------------------------------------------------------
# SBOM (CycloneDX)
# --------------------------------------------------------------------------------------

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


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _schema_message(error: Any) -> str:
    path = _json_path(error.absolute_path)
    v, expected = error.validator, error.validator_value
    if v == "required":
        m = re.match(r"^'(.+)' is a required property$", error.message)
        prop = m.group(1) if m else "?"
        return f"{path}.{prop}: required property is missing"
    if v == "const":
        return f"{path}: must be {expected!r} (got {_short(error.instance)})"
    if v == "enum":
        allowed = ", ".join(str(x) for x in expected)
        return f"{path}: must be one of {allowed} (got {_short(error.instance)})"
    if v == "type":
        return f"{path}: must be of type {expected}"
    if v == "minItems":
        return f"{path}: must not be empty"
    if v in ("minLength", "pattern") and path.endswith((".name", ".version", ".ref")):
        return f"{path}: must be a non-empty string"
    if v == "pattern":
        return f"{path}: {_short(error.instance)} is not in the expected format"
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
                    problems.append(f"{here}.bom-ref: duplicate bom-ref {_short(ref)} (also at {refs[ref]})")
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
                problems.append(f"$.dependencies[{i}].ref: {_short(ref)} is not a known bom-ref")
            depends = dep.get("dependsOn")
            if isinstance(depends, list):
                for j, target in enumerate(depends):
                    if isinstance(target, str) and target and target not in refs:
                        problems.append(f"$.dependencies[{i}].dependsOn[{j}]: {_short(target)} is not a known bom-ref")
    return problems


# --------------------------------------------------------------------------------------
# Licences
# --------------------------------------------------------------------------------------

_UNKNOWN_LICENSES = {"", "none", "noassertion", "unknown", "other", "proprietary?"}
_SPDX_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9][A-Za-z0-9.\-+:]*)")


def _license_key(spdx_id: str) -> str:
    """Normalised comparison key: case-folded, without -only / -or-later / +."""
    key = spdx_id.strip().lower()
    for suffix in ("-or-later", "-only", "+"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
            break
    return key


class _ParseError(ValueError):
    pass


def _tokenize(expression: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        m = _SPDX_TOKEN.match(text, pos)
        if not m:
            raise _ParseError(f"unexpected character at {pos}")
        tokens.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _parse_expression(expression: str) -> Any:
    """SPDX licence expression → ("or"|"and", [nodes]) or ("id", licence id)."""
    tokens = _tokenize(expression)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def is_op(tok: str | None, op: str) -> bool:
        return tok is not None and tok.upper() == op

    def parse_or() -> Any:
        nonlocal pos
        nodes = [parse_and()]
        while is_op(peek(), "OR"):
            pos += 1
            nodes.append(parse_and())
        return nodes[0] if len(nodes) == 1 else ("or", nodes)

    def parse_and() -> Any:
        nonlocal pos
        nodes = [parse_atom()]
        while is_op(peek(), "AND"):
            pos += 1
            nodes.append(parse_atom())
        return nodes[0] if len(nodes) == 1 else ("and", nodes)

    def parse_atom() -> Any:
        nonlocal pos
        tok = peek()
        if tok is None:
            raise _ParseError("unexpected end of expression")
        if tok == "(":
            pos += 1
            node = parse_or()
            if peek() != ")":
                raise _ParseError("missing )")
            pos += 1
            return node
        if tok == ")" or tok.upper() in ("AND", "OR", "WITH"):
            raise _ParseError(f"unexpected {tok!r}")
        pos += 1
        if is_op(peek(), "WITH"):
            pos += 1
            exc = peek()
            if exc is None or exc in ("(", ")") or exc.upper() in ("AND", "OR", "WITH"):
                raise _ParseError("WITH needs an exception id")
            pos += 1
        return ("id", tok)

    node = parse_or()
    if pos != len(tokens):
        raise _ParseError(f"unexpected {tokens[pos]!r}")
    return node


def _judge(node: Any, deny: set[str], allow: set[str] | None) -> tuple[bool, list]:
    """(acceptable, [(reason, licence id), ...]) for a parsed expression."""
    tag = node[0]
    if tag == "id":
        spdx = node[1]
        key = _license_key(spdx)
        if key in deny:
            return False, [("denied", spdx)]
        if allow is not None and key not in allow:
            reason = "unknown" if key in _UNKNOWN_LICENSES else "not_allowed"
            return False, [(reason, spdx)]
        return True, []
    results = [_judge(child, deny, allow) for child in node[1]]
    if tag == "or":
        if any(ok for ok, _ in results):
            return True, []
        return False, [r for _, rs in results for r in rs]
    reasons = [r for ok, rs in results if not ok for r in rs]
    return not reasons, reasons


def _component_license(component: Mapping[str, Any]) -> str | None:
    """The licence expression of a component dict (artifact or CycloneDX shape)."""
    for key in ("license", "license_expression", "spdx", "licence"):
        value = component.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    value = component.get("licenses")
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list):
        parts: list[str] = []
        for entry in value:
            if isinstance(entry, str) and entry.strip():
                parts.append(entry.strip())
            elif isinstance(entry, Mapping):
                if isinstance(entry.get("expression"), str) and entry["expression"].strip():
                    parts.append(entry["expression"].strip())
                lic = entry.get("license")
                if isinstance(lic, Mapping):
                    ident = lic.get("id") or lic.get("name")
                    if isinstance(ident, str) and ident.strip():
                        parts.append(ident.strip())
        if len(parts) == 1:
            return parts[0]
        if parts:
            return " AND ".join(f"({p})" for p in parts)
    return None


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
                    "license": _component_license(comp),
                }
            )
            walk(comp.get("components"))

    if isinstance(sbom, Mapping):
        walk(sbom.get("components"))
    return out


def _id_list(values: Iterable[str] | None, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise GateInputError(f"{what} must be a list of SPDX ids")
    out = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise GateInputError(f"{what} must be a list of non-empty SPDX ids")
        out.append(v.strip())
    return out


def check_licenses(
    components: list[dict[str, Any]],
    deny: list[str] | None,
    allow: list[str] | None = None,
) -> list[Finding]:
    """Licence findings for components ({name, version, license}).

    `license` is an SPDX id or expression (a CycloneDX ``licenses`` array is accepted
    too). ``A OR B`` passes if any alternative is acceptable; ``A AND B`` fails if any
    conjunct is denied (or not allowed). Ids match after `_license_key` normalisation
    (case-insensitive; ``-only``/``-or-later``/``+`` stripped). When `allow` is given,
    anything not in it fails, and a missing/unknown (NONE, NOASSERTION) or unparseable
    licence is a finding; without it those pass unless an unparseable string names a
    denied id. Finding kinds: license_denied, license_not_allowed, license_unknown.
    """
    if components is None:
        components = []
    if isinstance(components, Mapping):
        components = components.get("components", components.get("licenses", []))
    if not isinstance(components, list):
        raise GateInputError("licenses must be a list of components")
    deny_keys = {_license_key(d) for d in _id_list(deny, "license_deny")}
    allow_list = None if allow is None else _id_list(allow, "license_allow")
    allow_keys = None if allow_list is None else {_license_key(a) for a in allow_list}

    findings: list[Finding] = []
    for i, comp in enumerate(components):
        if not isinstance(comp, Mapping):
            raise GateInputError(f"$.licenses[{i}]: must be an object")
        name = str(comp.get("name") or f"component #{i}")
        version = comp.get("version")
        label = f"{name} {version}" if version not in (None, "") else name
        expression = _component_license(comp)

        def finding(kind: str, message: str, _label: str = label) -> Finding:
            return Finding(check="licenses", kind=kind, message=message, component=_label)

        if expression is None or _license_key(expression) in _UNKNOWN_LICENSES:
            if allow_keys is not None and not (expression is not None and _license_key(expression) in allow_keys):
                findings.append(finding("license_unknown", f"licence missing or unknown for {label}"))
            continue
        shown = _short(expression, 80).strip("'\"")
        try:
            tree = _parse_expression(expression)
        except _ParseError:
            mentioned = [
                t for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9.\-+]*", expression) if _license_key(t) in deny_keys
            ]
            if mentioned:
                findings.append(
                    finding(
                        "license_denied",
                        f"licence {', '.join(mentioned)} denied for {label} (unparseable expression {shown!r})",
                    )
                )
            elif allow_keys is not None:
                findings.append(
                    finding(
                        "license_unknown",
                        f"licence expression {shown!r} of {label} is not valid SPDX",
                    )
                )
            continue
        ok, reasons = _judge(tree, deny_keys, allow_keys)
        if ok:
            continue
        denied = [lid for why, lid in reasons if why == "denied"]
        others = [lid for why, lid in reasons if why != "denied"]
        parts = []
        if denied:
            parts.append(f"licence {', '.join(dict.fromkeys(denied))} denied")
        if others:
            parts.append(f"licence {', '.join(dict.fromkeys(others))} not in the allow-list")
        kind = (
            "license_denied"
            if denied
            else "license_unknown"
            if all(why == "unknown" for why, _ in reasons)
            else "license_not_allowed"
        )
        message = " and ".join(parts) + f" for {label}"
        if tree[0] != "id":
            message += f" ({shown})"
        findings.append(finding(kind, message))
    return findings


# --------------------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------------------


def _checks(checks: Iterable[str] | None) -> list[str]:
    if checks is None:
        return list(ALL_CHECKS)
    if isinstance(checks, str) or not isinstance(checks, Iterable):
        raise GateInputError("checks must be a list")
    wanted = list(dict.fromkeys(checks))
    unknown = [c for c in wanted if c not in ALL_CHECKS]
    if unknown:
        raise GateInputError(f"unknown security checks {unknown}; expected a subset of {list(ALL_CHECKS)}")
    if not wanted:
        raise GateInputError("checks is empty: name at least one of " + ", ".join(ALL_CHECKS))
    return [c for c in ALL_CHECKS if c in wanted]


def _explain(check: str, findings: list[Finding], total: int, scanned: str) -> str:
    label = {
        "secrets": ("secret", "secrets"),
        "pii": ("PII value", "PII values"),
        "sbom": ("SBOM problem", "SBOM problems"),
        "licenses": ("licence problem", "licence problems"),
    }[check]
    text = f"{total} {label[0] if total == 1 else label[1]}"
    if scanned:
        text += f" {scanned}"
    if total:
        items = []
        for f in findings[:MAX_EXPLAINED_PER_CHECK]:
            if check == "secrets":
                items.append(f"{f.file} line {f.line} {f.kind}")
            elif check == "pii":
                items.append(f"{f.kind} in {f.column} row {f.row}")
            else:
                items.append(f.message)
        more = total - len(items)
        if more > 0:
            items.append(f"… {more} more")
        text += " (" + "; ".join(items) + ")"
    return text


def security_gate(
    *,
    checks: Iterable[str] | None = None,
    sbom: Mapping[str, Any] | None = None,
    licenses: list[dict[str, Any]] | Mapping[str, Any] | None = None,
    text_files: Mapping[str, str] | None = None,
    feature_samples: Mapping[str, Iterable[Any]] | None = None,
    license_deny: list[str] | None = None,
    license_allow: list[str] | None = None,
) -> GateResult:
    """The security gate: failed when any requested check has a finding.

    checks: subset of sbom, licenses, secrets, pii (default all four).
    licenses: component dicts from the licences artifact; when None, the SBOM's
    components (and their CycloneDX licences) are judged instead; when neither exists
    the licences check reports that there is no licence evidence.
    No text files / feature samples means nothing to scan (0 findings, reported as
    "0 files"/"0 columns" scanned in the explanation).
    Value = number of findings (all of them, including PII beyond the per-column cap),
    threshold 0; groups = {check: {"findings": n, "by_kind": {...}}}; details carries the
    first 100 findings (masked).
    """
    wanted = _checks(checks)
    deny = _id_list(license_deny, "license_deny")
    allow = None if license_allow is None else _id_list(license_allow, "license_allow")

    per_check: dict[str, tuple[list[Finding], int, str]] = {}
    if "sbom" in wanted:
        problems = check_sbom(sbom)
        kind = "sbom_missing" if sbom is None else "sbom_invalid"
        found = [Finding(check="sbom", kind=kind, message=p) for p in problems]
        per_check["sbom"] = (found, len(found), "")
    if "licenses" in wanted:
        if licenses is not None:
            components = licenses
            source = "licences artifact"
        elif isinstance(sbom, Mapping) and isinstance(sbom.get("components"), list):
            components = components_from_sbom(sbom)
            source = "SBOM"
        else:
            components, source = None, ""
        if components is None:
            found = [
                Finding(
                    check="licenses",
                    kind="license_evidence_missing",
                    message="no licences artifact and no SBOM components to judge",
                )
            ]
            scanned = ""
        else:
            found = check_licenses(components, deny, allow)
            count = len(components) if isinstance(components, list) else None
            scanned = f"in {count} components from the {source}" if count is not None else ""
        per_check["licenses"] = (found, len(found), scanned)
    if "secrets" in wanted:
        secrets = scan_secrets(text_files or {})
        n_files = len(text_files or {})
        per_check["secrets"] = (
            list(secrets),
            secrets.total,
            f"in {n_files} file{'s' if n_files != 1 else ''}",
        )
    if "pii" in wanted:
        pii = scan_pii(feature_samples or {})
        n_cols = len(feature_samples or {})
        per_check["pii"] = (
            list(pii),
            pii.total,
            f"in {n_cols} column{'s' if n_cols != 1 else ''}",
        )

    total = sum(t for _, t, _ in per_check.values())
    groups: dict[str, Any] = {}
    explanations = []
    all_findings: list[Finding] = []
    for check in wanted:
        found, count, scanned = per_check[check]
        groups[check] = {
            "findings": count,
            "by_kind": dict(Counter(f.kind for f in found)),
        }
        if check == "pii":
            pii_counts = {c: n for c, n in pii.counts.items() if n}
            groups[check]["by_column"] = pii_counts
            if pii.truncated:
                groups[check]["stored"] = len(found)
        explanations.append(f"{check}: {_explain(check, found, count, scanned)}")
        all_findings.extend(found)

    status = FAILED if total else PASSED
    details: dict[str, Any] = {
        "checks": wanted,
        "findings": [f.to_dict() for f in all_findings[:MAX_DETAIL_FINDINGS]],
        "findings_total": total,
        "findings_truncated": total > min(len(all_findings), MAX_DETAIL_FINDINGS),
        "license_deny": deny,
        "license_allow": allow,
    }
    explanation = "; ".join(explanations) + f" → {status}"
    return GateResult(
        status=status,
        metric="security_findings",
        value=float(total),
        threshold=0.0,
        n=None,
        groups=groups,
        explanation=explanation,
        details=details,
    )
