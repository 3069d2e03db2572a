"""Personal data in feature samples: e-mails, phones, payment cards, SSNs, NINOs, IBANs."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from stdnum import iban, luhn
from stdnum.us import ssn

from governance.gates.stats.outcome import GateInputError

from .findings import Finding, Findings, named_sources, unclaimed

PII_FINDINGS_PER_COLUMN = 20  # stored per column; all are counted


def luhn_valid(number: str) -> bool:
    """Luhn (mod 10) check of a digit string (python-stdnum); spaces and dashes are ignored.

    A single digit is not a number worth checking: it is never valid here."""
    digits = re.sub(r"[ \-]", "", str(number))
    return len(digits) >= 2 and luhn.is_valid(digits)


def iban_valid(s: str) -> bool:
    """IBAN check by python-stdnum: a country of the ISO 13616 registry, its BBAN format
    and length, and the ISO 7064 mod-97 check digits. Spaces are ignored and letters may
    be lower case. Without stdnum's national checks (`check_country=False`): for Belgium
    they require a bank code in its bank list, and personal data is personal data whether
    or not its bank is listed."""
    return isinstance(s, str) and iban.is_valid(s, check_country=False)


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
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _card_brand_ok(digits) and luhn.is_valid(digits)


# Never issued, yet used as an example; python-stdnum blocks 078-05-1120 and a few others.
_EXAMPLE_SSNS = {"123456789"}


def _valid_ssn(candidate: str) -> bool:
    """US SSN (python-stdnum: area not 000, 666 or 9xx, group not 00, serial not 0000,
    not a number published in advertising); spaces are separators too."""
    digits = re.sub(r"[ \-]", "", candidate)
    return len(digits) == 9 and ssn.is_valid(digits) and digits not in _EXAMPLE_SSNS


# UK National Insurance number: python-stdnum has no validator for it (2.2).
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
    (registry format and mod-97). Findings stored per column are capped at
    `per_column_cap`; `counts` (per column) and `total` count them all. None/NaN cells
    are skipped; non-string cells are scanned as ``str(value)``.
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
