"""Licence policy over the components of a licences artifact or an SBOM.

SPDX ids are compared case-insensitively after stripping the ``-only`` and ``-or-later``
suffixes and a trailing ``+``, so ``GPL-3.0`` (the deprecated id) matches
``GPL-3.0-only``, ``GPL-3.0-or-later`` and ``GPL-3.0+`` in both directions, for deny and
allow lists alike. ``AGPL-3.0`` and ``LGPL-3.0`` are different licences from ``GPL-3.0``
(no substring matching). ``WITH <exception>`` is ignored for the verdict (the licence it
modifies is judged). ``OR``: passes if any alternative is acceptable; ``AND``: fails if
any conjunct is not. Several entries in a CycloneDX ``licenses`` array are treated as a
conjunction (conservative)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from governance.gates.stats.outcome import GateInputError

from .findings import Finding, short_repr

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
