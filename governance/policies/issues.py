"""What is wrong with a policy: located issues, and the one error that carries them all."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from governance.core.errors import DomainError


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a policy source."""

    path: str  # e.g. "transitions.staging->production.gates[2].min"; "" for the document
    message: str  # e.g. "must be at most 1 (got 1.2)"
    line: int | None  # 1-based line in the YAML source

    def __str__(self) -> str:
        head = f"{self.path}: {self.message}" if self.path else self.message
        return head if self.line is None else f"{head} (line {self.line})"


def _issue_sort_key(issue: PolicyIssue) -> tuple:
    return (issue.line is None, issue.line or 0, issue.path, issue.message)


class PolicyError(DomainError):
    """The policy is invalid. `issues` holds every problem found, sorted by line."""

    default_code = "invalid_policy"

    def __init__(self, issues: Iterable[PolicyIssue]):
        unique = list(dict.fromkeys(issues))
        self.issues: list[PolicyIssue] = sorted(unique, key=_issue_sort_key)
        texts = [str(i) for i in self.issues]
        super().__init__(texts[0] if texts else "invalid policy", fields={"policy": texts})

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues)


# --- Phrasing values and paths for people --------------------------------------------


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = clip(str(part), 80)
            out += f".{part}" if out else part
    return out


def printable(text: str) -> str:
    """Escape line breaks and other control characters: one issue, one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def clip(text: str, limit: int = 60) -> str:
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def show(value: Any) -> str:
    """A short, human rendering of a value for messages (never a whole structure)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        s = str(value)
        return s if len(s) <= 30 else s[:12] + "..." + s[-6:]
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return "'" + clip(value) + "'"
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    return type(value).__name__


def quoted_list(items: Iterable[str], conj: str = "or") -> str:
    items = [f"'{i}'" for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def suggest(value: Any, options: Iterable[str]) -> str | None:
    """A close option to a misspelt value (difflib, plus '-' vs '_' and prefixes)."""
    if not isinstance(value, str) or not value:
        return None
    options = list(options)
    norm = value.lower().replace("-", "_").replace(" ", "_")
    for o in options:
        if o == norm:
            return o
    close = difflib.get_close_matches(norm, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    if len(norm) >= 3:
        prefixed = [o for o in options if o.startswith(norm)]
        if len(prefixed) == 1:
            return prefixed[0]
    return None


def did_you_mean(value: Any, options: Iterable[str]) -> str:
    s = suggest(value, options)
    return f"; did you mean '{s}'?" if s else ""
