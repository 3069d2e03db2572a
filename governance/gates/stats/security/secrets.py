"""Secrets in text artifacts and configs, reported with file, line and a masked value.

Specific detectors (AWS, GitHub, Slack, Google, Stripe keys, JWTs, credentials in URLs,
private key blocks, password and API-key assignments) claim their spans first; then
high-entropy strings. A token is a maximal run of base64/base64url characters
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
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping

from governance.gates.stats.outcome import GateInputError

from .findings import Finding, Findings, named_sources, overlaps, unclaimed

HEX_ENTROPY_THRESHOLD = 3.0
MIN_TOKEN_LENGTH = 20

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


def _secret_finding(kind: str, file: str, line: int, value: str) -> Finding:
    return Finding.of_value("secrets", kind, value, file=file, line=line)


def _scan_line(file: str, lineno: int, text: str, is_code: bool) -> list[Finding]:
    found: list[Finding] = []
    spans: list[tuple[int, int]] = []

    for kind, pattern, group in _SPECIFIC_PATTERNS:
        for m in unclaimed(pattern, text, spans, group):
            value = m.group(group)
            if kind == "url_credentials" and _is_placeholder(value):
                continue
            spans.append(m.span(group))
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
        if overlaps(spans, start, end) or _is_placeholder(value):
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
        if overlaps(spans, start, end) or _UUID.fullmatch(token):
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
    files = named_sources(files, "text files must be a mapping of file name to text")
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
