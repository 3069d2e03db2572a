"""Numbers in explanations: every gate explains its verdict in one sentence with these.

Pure: no numpy, no Django, no I/O.
"""

from __future__ import annotations

import math


def fmt(x: float | None, digits: int = 3) -> str:
    """A compact number: 3 decimals by default, significant digits for tiny/huge values."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return f"{0:.{digits}f}"
    ax = abs(x)
    if ax >= 1e5:
        return f"{x:,.0f}"
    if ax < 1e-6:
        return f"{x:.{digits - 1}e}"
    if ax < 10 ** (-digits):
        # keep two significant digits: 0.00082, not 0.001 or 8.2e-04
        return f"{x:.{1 - math.floor(math.log10(ax))}f}"
    return f"{x:.{digits}f}"


def fmt_vs(x: float, limit: float, digits: int = 3) -> tuple[str, str]:
    """Format a value and the limit it is compared with, adding decimals until two numbers
    that differ also read differently (so "0.0101 exceeds 0.0100", never "0.010 exceeds
    0.010")."""
    d = digits
    while d < 10:
        a, b = fmt(x, d), fmt(limit, d)
        if a != b or x == limit:
            return a, b
        d += 1
    return fmt(x, d), fmt(limit, d)


def pct_level(confidence: float) -> str:
    """0.95 -> '95%', 0.975 -> '97.5%'."""
    return f"{confidence * 100:g}%"
