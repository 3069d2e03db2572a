"""Gate parameters, validated once: a frozen dataclass per gate and the rules it uses.

A gate declares its policy parameters as a frozen, keyword-only dataclass deriving from
`GateParams`: one field per parameter, with its default and, through `checked(rule)`, the
rule that validates and normalises it (e.g. to a float). The gate function takes the
parameters as keywords (`**spec`, as the policy names them) and builds the object once
with `from_spec`, which refuses unknown and missing parameters, runs each field's rule,
then `check_together` for the rules between fields. Every refusal is a GateInputError
naming the parameter. After that the gate computes from plain, valid values.

Pure: no numpy, no scipy, no Django, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Self

from .outcome import GateInputError

Rule = Callable[[str, Any], Any]  # (parameter name, value) -> normalised value


def checked(rule: Rule, *, default: Any = MISSING, policy_name: str | None = None) -> Any:
    """A parameter validated and normalised by `rule` (`default` when not given);
    `policy_name` is how messages name it when the policy calls it differently."""
    return field(default=default, metadata={"rule": rule, "policy_name": policy_name})


@dataclass(frozen=True, kw_only=True)
class GateParams:
    """Base of the per-gate parameter objects (see the module docstring)."""

    gate: ClassVar[str]  # the gate type, for messages

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        """The validated parameters of a gate from its keyword arguments."""
        known = [f.name for f in fields(cls)]
        unknown = [name for name in spec if name not in known]
        if unknown:
            raise GateInputError(
                f"{cls.gate} gate: unknown parameter(s) {', '.join(map(str, unknown))}; "
                f"expected some of {', '.join(known)}"
            )
        missing = [f.name for f in fields(cls) if f.default is MISSING and f.name not in spec]
        if missing:
            raise GateInputError(f"{cls.gate} gate: parameter(s) {', '.join(missing)} missing")
        return cls(**spec)

    def __post_init__(self) -> None:
        for f in fields(self):
            rule = f.metadata.get("rule")
            if rule is not None:
                self._set(f.name, rule(f.metadata["policy_name"] or f.name, getattr(self, f.name)))
        self.check_together()

    def check_together(self) -> None:
        """Rules between parameters; a subclass overrides it and may `_set` fields."""

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)


# --------------------------------------------------------------------------------------
# Rules: (name, value) -> normalised value, or GateInputError
# --------------------------------------------------------------------------------------


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise GateInputError(f"{name} must be a number, got {value!r}") from exc


def confidence_level(name: str, value: Any) -> float:
    """A confidence level; the policy schema allows 0.5..0.999."""
    c = _number(name, value)
    if not (0.5 <= c <= 0.999):
        raise GateInputError(f"{name} must be between 0.5 and 0.999, got {value}")
    return c


def between(low: float, high: float) -> Rule:
    """A number in low..high (NaN rejected)."""

    def rule(name: str, value: Any) -> float:
        v = _number(name, value)
        if not (low <= v <= high):
            raise GateInputError(f"{name} must be between {low:g} and {high:g}, got {value}")
        return v

    return rule


fraction = between(0.0, 1.0)


def bootstrap_count(name: str, value: Any) -> int:
    """A whole number of bootstrap resamples, 100..10000."""
    b = int(value)
    if b != value or not (100 <= b <= 10000):
        raise GateInputError(f"{name} must be an integer 100..10000, got {value}")
    return b


def at_least(low: float, *, finite: bool = False, strict: bool = False) -> Rule:
    """A number >= low (> low when `strict`); NaN is rejected, inf unless `finite`."""
    expected = f"{'a finite number ' if finite else ''}{'>' if strict else '>='} {low:g}"

    def rule(name: str, value: Any) -> float:
        v = _number(name, value)
        if not (v > low if strict else v >= low) or (finite and not math.isfinite(v)):
            raise GateInputError(f"{name} must be {expected}, got {value}")
        return v

    return rule


def optional(rule: Rule) -> Rule:
    """`rule` for a parameter that may be None (absent)."""
    return lambda name, value: None if value is None else rule(name, value)


def whole_number(low: int, high: int | None = None) -> Rule:
    """An integer in low..high (or >= low); 3.0 is accepted as 3, 2.5 is not."""
    expected = f"an integer >= {low}" if high is None else f"an integer {low}..{high}"

    def rule(name: str, value: Any) -> int:
        if int(value) != value or value < low or (high is not None and value > high):
            raise GateInputError(f"{name} must be {expected}, got {value}")
        return int(value)

    return rule


def one_of(allowed: Sequence[str], *, what: str | None = None, lower: bool = False) -> Rule:
    """One of `allowed` (after lower-casing when `lower`); `what` names it in messages."""

    def rule(name: str, value: Any) -> str:
        v = str(value).lower() if lower else value
        if v not in allowed:
            if what is not None:
                raise GateInputError(f"unknown {what} {v!r}; expected one of {', '.join(allowed)}")
            if len(allowed) == 1:
                raise GateInputError(f"{name} must be {allowed[0]!r}, got {value!r}")
            raise GateInputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        return v

    return rule


def names_from(allowed: Sequence[str], *, what: str, in_allowed_order: bool = False) -> Rule:
    """A list of names from `allowed`, without duplicates, in the order given (or in the
    order of `allowed`); None means all of them. `what` names them in messages."""

    def rule(name: str, value: Any) -> list[str]:
        if value is None:
            return list(allowed)
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise GateInputError(f"{name} must be a list of {what}")
        wanted = list(dict.fromkeys(value))
        unknown = [v for v in wanted if v not in allowed]
        if unknown:
            raise GateInputError(f"unknown {what} {unknown}; expected a subset of {list(allowed)}")
        return [a for a in allowed if a in wanted] if in_allowed_order else wanted

    return rule


def exactly_one(what: str, **given: Any) -> str:
    """The name of the one parameter of `given` that is not None, else GateInputError."""
    present = [name for name, value in given.items() if value is not None]
    if len(present) != 1:
        raise GateInputError(f"{what} needs exactly one of {' or '.join(given)}")
    return present[0]
