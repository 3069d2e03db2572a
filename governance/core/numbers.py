"""How a measured number reads, on pages and in PDFs alike."""

from __future__ import annotations

import math


def measured(value, digits: int = 4) -> str:
    """4 significant digits, ints as ints (with thousands separators), '—' for none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) < 1e-4 or abs(x) >= 1e9:
        return f"{x:.{int(digits) - 1}e}"
    return f"{x:.{int(digits)}g}"
