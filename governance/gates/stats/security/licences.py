"""Licence policy over the components of a licences artifact or an SBOM.

Expressions are parsed by license-expression (SPDX syntax, operators in any case), held
to the SPDX grammar it does not enforce by `_well_formed`. SPDX ids are compared
case-insensitively after stripping the ``-only`` and ``-or-later`` suffixes and a
trailing ``+``, so ``GPL-3.0`` (the deprecated id) matches ``GPL-3.0-only``,
``GPL-3.0-or-later`` and ``GPL-3.0+`` in both directions, for deny and allow lists
alike. ``AGPL-3.0`` and ``LGPL-3.0`` are different licences from ``GPL-3.0`` (no
substring matching). ``WITH <exception>`` is ignored for the verdict (the licence it
modifies is judged). ``OR``: passes if any alternative is acceptable; ``AND``: fails if
any conjunct is not. Several entries in a CycloneDX ``licenses`` array are treated as a
conjunction (conservative)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from boolean import ParseError
from license_expression import (
    OR,
    TOKEN_AND,
    TOKEN_LPAR,
    TOKEN_OR,
    TOKEN_RPAR,
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    Licensing,
)

from governance.gates.stats.outcome import GateInputError

from .findings import Finding, short_repr

_UNKNOWN_LICENSES = {"", "none", "noassertion", "unknown", "other", "proprietary?"}
# No symbol table: ids stay as written (messages quote them) and are matched by `_license_key`.
_LICENSING = Licensing()
# What this gate takes for a licence or exception id; license-expression also allows "_".
_SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-+:]*")


def _license_key(spdx_id: str) -> str:
    """Normalised comparison key: case-folded, without -only / -or-later / +."""
    key = spdx_id.strip().lower()
    for suffix in ("-or-later", "-only", "+"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
            break
    return key


@lru_cache(maxsize=1024)  # an SBOM repeats a few expressions over many components
def _parse(expression: str) -> Any | None:
    """The SPDX expression parsed by license-expression (AND/OR of licence symbols, a
    symbol `WITH` an exception binding tightest, operators in any case), or None when
    it is not a valid SPDX expression."""
    try:
        tokens = [token for token, _, _ in _LICENSING.tokenize(expression, simple=True)]
        return _LICENSING.parse(expression, simple=True) if _well_formed(tokens) else None
    except (ExpressionError, ParseError):
        return None


def _well_formed(tokens: list[Any]) -> bool:
    """The grammar license-expression's parser does not hold to: licences and AND/OR
    alternate, parentheses balance and hold something, every id is an SPDX-like id. (It
    takes "MIT OR GPL-3.0 OR" and "(MIT) GPL-3.0", and crashes on "( )" and "( AND x".)"""
    depth, want_licence = 0, True
    for token in tokens:
        if isinstance(token, LicenseWithExceptionSymbol):
            ids = [token.license_symbol.key, token.exception_symbol.key]
        elif isinstance(token, LicenseSymbol):
            ids = [token.key]
        else:
            ids = []
        if ids and want_licence and all(_SPDX_ID.fullmatch(i) for i in ids):
            want_licence = False
        elif token == TOKEN_LPAR and want_licence:
            depth += 1
        elif token == TOKEN_RPAR and not want_licence and depth:
            depth -= 1
        elif token in (TOKEN_AND, TOKEN_OR) and not want_licence:
            want_licence = True
        else:
            return False
    return depth == 0 and not want_licence


def _judge(node: Any, deny: set[str], allow: set[str] | None) -> tuple[bool, list[tuple[str, str]]]:
    """(acceptable, [(reason, licence id), ...]) for a parsed expression."""
    if isinstance(node, LicenseWithExceptionSymbol):
        node = node.license_symbol  # the exception does not change the verdict
    if isinstance(node, LicenseSymbol):
        key = _license_key(node.key)
        if key in deny:
            return False, [("denied", node.key)]
        if allow is not None and key not in allow:
            return False, [("unknown" if key in _UNKNOWN_LICENSES else "not_allowed", node.key)]
        return True, []
    results = [_judge(child, deny, allow) for child in node.args]
    if isinstance(node, OR) and any(ok for ok, _ in results):
        return True, []
    reasons = [r for ok, rs in results if not ok for r in rs]  # AND, or an OR with no acceptable branch
    return not reasons, reasons


def component_license(component: Mapping[str, Any]) -> str | None:
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


def spdx_ids(name: str, values: Iterable[str] | None) -> list[str]:
    """A list of non-empty SPDX ids (stripped); None is an empty list."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise GateInputError(f"{name} must be a list of SPDX ids")
    out = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise GateInputError(f"{name} must be a list of non-empty SPDX ids")
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
    deny_keys = {_license_key(d) for d in spdx_ids("license_deny", deny)}
    allow_keys = None if allow is None else {_license_key(a) for a in spdx_ids("license_allow", allow)}

    findings: list[Finding] = []
    for i, comp in enumerate(components):
        if not isinstance(comp, Mapping):
            raise GateInputError(f"$.licenses[{i}]: must be an object")
        name = str(comp.get("name") or f"component #{i}")
        version = comp.get("version")
        label = f"{name} {version}" if version not in (None, "") else name
        expression = component_license(comp)

        def finding(kind: str, message: str, _label: str = label) -> Finding:
            return Finding(check="licenses", kind=kind, message=message, component=_label)

        if expression is None or _license_key(expression) in _UNKNOWN_LICENSES:
            if allow_keys is not None and not (expression is not None and _license_key(expression) in allow_keys):
                findings.append(finding("license_unknown", f"licence missing or unknown for {label}"))
            continue
        shown = short_repr(expression, 80).strip("'\"")
        tree = _parse(expression)
        if tree is None:
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
        if not isinstance(tree, LicenseSymbol | LicenseWithExceptionSymbol):
            message += f" ({shown})"
        findings.append(finding(kind, message))
    return findings
