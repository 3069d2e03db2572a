"""Personal data in feature samples: e-mails, phones, payment cards, SSNs, NINOs, IBANs."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from governance.gates.stats.outcome import GateInputError

from .findings import Finding, Findings, named_sources, unclaimed

PII_FINDINGS_PER_COLUMN = 20  # stored per column; all are counted


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
_BARE_SSN = re.compile(r"(?<!\d)\d{9}(?!\d)")  # an SSN in a column named like one


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
    patterns = _PII_PATTERNS + ([("us_ssn", _BARE_SSN, _valid_ssn)] if ssn_column else [])
    for kind, pattern, validator in patterns:
        for m in unclaimed(pattern, text, spans):
            if validator is None or validator(m.group()):
                spans.append(m.span())
                hits.append((kind, m.group()))
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
    columns = named_sources(columns, "feature samples must be a mapping of column to values")
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
                    out.append(Finding.of_value("pii", kind, value, column=col, row=row))
        counts[col] = n
    return Findings(out, counts=counts, total=sum(counts.values()))
