"""Parse and validate policy YAML into an immutable `PolicyDocument`.

Pure: no Django. The Django side (Policy model, versions, request snapshots, the
`load_policy` command) calls `parse_policy` and stores `content` + `sha256`.

Pipeline:
1. bytes -> text (strict UTF-8, size cap);
2. YAML -> node tree with a restricted loader: YAML 1.2 core scalars only (`yes`/`no`/`on`
   are strings, `1e3` is a float, no timestamps), no anchors/aliases/merge keys (billion
   laughs), bounded nesting, one document;
3. nodes -> plain Python data, recording the 1-based line of every key and list item,
   detecting duplicate keys, non-string keys, unsupported tags and non-finite numbers;
4. JSON Schema validation (`schema.POLICY_SCHEMA`), errors rephrased for humans;
5. checks a schema cannot express (unique gate ids, bypassable gates exist, ...);
6. defaults filled in.

Every problem found is reported at once as a `PolicyIssue` inside one `PolicyError`.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from governance.core import vocabulary as V

from . import schema as S
from .issues import (
    PolicyError,
    PolicyIssue,
    clip,
    did_you_mean,
    format_path,
    quoted_list,
    show,
    suggest,
)
from .yaml_source import parse_source

__all__ = [
    "PolicyDocument",
    "PolicyError",
    "PolicyIssue",
    "check_policy",
    "fill_defaults",
    "parse_policy",
]

Path = tuple  # tuple[str | int, ...]


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed, validated policy. Treat it (and `data`) as immutable.

    `sha256` is the SHA-256 of `content` encoded as UTF-8: exactly the bytes that were
    parsed, so `sha256sum policy.yaml` gives the same value and any edit (even a comment)
    is a new version.
    """

    name: str
    content: str
    data: dict = field(repr=False)
    sha256: str

    def __hash__(self) -> int:
        return hash((self.name, self.sha256))

    # -- lookups (return copies, so callers cannot alter the document)

    def transition(self, src: str, dst: str) -> dict | None:
        """The transition block for src->dst, with defaults, or None if the policy has none."""
        t = self.data["transitions"].get(S.transition_key(src, dst))
        return copy.deepcopy(t) if t is not None else None

    def gates_for(self, src: str, dst: str) -> list[dict]:
        t = self.data["transitions"].get(S.transition_key(src, dst))
        return copy.deepcopy(t["gates"]) if t else []

    def approvals_for(self, src: str, dst: str) -> list[dict]:
        """Required approvals as [{"role", "count"}, ...] (description dropped)."""
        t = self.data["transitions"].get(S.transition_key(src, dst))
        return [{"role": a["role"], "count": a["count"]} for a in t["approvals"]] if t else []

    def emergency_for(self, src: str, dst: str) -> dict | None:
        """The emergency block of src->dst, or None when emergency changes are not allowed."""
        t = self.data["transitions"].get(S.transition_key(src, dst))
        return copy.deepcopy(t.get("emergency")) if t else None

    def experiment_allowed(self, src: str, dst: str) -> bool:
        t = self.data["transitions"].get(S.transition_key(src, dst))
        return bool(t and t["experiment_allowed"])

    @property
    def canary(self) -> dict | None:
        c = self.data.get("canary")
        return copy.deepcopy(c) if c is not None else None

    def applies_to_model(self, *, name: str, risk_tier: str) -> bool:
        applies = self.data["applies_to"]
        if "models" in applies:
            return name in applies["models"]
        return risk_tier in applies["risk_tiers"]


# --------------------------------------------------------------------------- entry points


def parse_policy(text: str | bytes) -> PolicyDocument:
    """Parse and validate a policy. Raises `PolicyError` listing every problem."""
    content, data, lines, issues = parse_source(text)
    if isinstance(data, dict):
        issues += _schema_issues(data, lines) + _semantic_issues(data, lines)
    if issues:
        raise PolicyError(issues)
    assert content is not None and isinstance(data, dict)
    fill_defaults(data)
    return PolicyDocument(
        name=data["name"],
        content=content,
        data=data,
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
    )


def check_policy(text: str | bytes) -> list[PolicyIssue]:
    """Dry run: the issues `parse_policy` would raise, sorted by line ([] when valid)."""
    try:
        parse_policy(text)
    except PolicyError as exc:
        return exc.issues
    return []


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _lookup(root: Any, path: Path) -> Any:
    node = root
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


# --------------------------------------------------------------------------- schema errors


def _is_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema counts 2.0 as an integer; a policy should say 2.
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = jsonschema.validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)
_VALIDATOR = _Validator(S.POLICY_SCHEMA)
# Bodies under an unknown transition key are still checked (all problems at once).
_TRANSITION_VALIDATOR = _Validator(
    {
        "$schema": S.SCHEMA_DIALECT,
        "$defs": S.POLICY_SCHEMA["$defs"],
        "$ref": "#/$defs/transition",
    }
)

_TYPE_WORDS = {
    "number": "a number",
    "integer": "a whole number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


@dataclass
class _Raw:
    path: Path
    message: str
    keyword: str
    line_path: Path | None = None


def _schema_issues(data: dict, lines: dict[Path, int]) -> list[PolicyIssue]:
    raws: list[_Raw] = []
    for error in _VALIDATOR.iter_errors(data):
        raws.extend(_translate(error, data))
    transitions = data.get("transitions")
    if isinstance(transitions, dict):
        for key, block in transitions.items():
            if key not in S.TRANSITIONS and isinstance(block, dict):
                prefix: Path = ("transitions", key)
                for error in _TRANSITION_VALIDATOR.iter_errors(block):
                    raws.extend(_translate(error, data, prefix))
    # A value of the wrong type also fails its range/format rules: report the type only.
    typed = {r.path for r in raws if r.keyword == "type"}
    out = []
    for r in raws:
        if r.path in typed and r.keyword != "type":
            continue
        out.append(PolicyIssue(format_path(r.path), r.message, line_for(lines, r.line_path or r.path)))
    return out


def line_for(lines: dict[Path, int], path: Path) -> int | None:
    path = tuple(path)
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]


def _custom(error: jsonschema.ValidationError, root: Any, path: Path) -> str | None:
    if not isinstance(error.schema, dict):
        return None
    template = (error.schema.get("x-messages") or {}).get(error.validator)
    if template is None:
        return None
    parent = _lookup(root, path[:-1]) if path else None
    try:
        return template.format_map(
            _Lenient(
                value=show(error.instance),
                parent=_Lenient(parent) if isinstance(parent, dict) else _Lenient(),
            )
        )
    except (KeyError, IndexError, ValueError, AttributeError):
        return template


def _translate(error: jsonschema.ValidationError, root: Any, prefix: Path = ()) -> Iterator[_Raw]:
    path: Path = prefix + tuple(error.absolute_path)
    kw = error.validator
    sch = error.schema if isinstance(error.schema, dict) else {}
    inst = error.instance
    vv = error.validator_value
    custom = _custom(error, root, path) if sch else None

    if kw == "type":
        wanted = vv if isinstance(vv, list) else [vv]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in wanted)
        yield _Raw(path, f"expected {words} (got {show(inst)})", kw)
    elif kw == "required":
        if not isinstance(inst, dict):
            return
        for key in vv:
            if key not in inst:
                yield _Raw(path, custom or f"missing required key '{key}'", kw)
    elif kw == "additionalProperties":
        if not isinstance(inst, dict):
            return
        allowed = list(sch.get("properties", {}))
        for key in inst:
            if key in sch.get("properties", {}):
                continue
            if sch.get("x-key-kind") == "transition":
                message = _transition_key_message(key)
            else:
                hint = suggest(key, allowed)
                message = f"unexpected key '{clip(str(key))}'" + (
                    f" (did you mean '{hint}'?)" if hint else f" (allowed: {', '.join(allowed)})"
                )
            yield _Raw(path + (key,), message, kw)
    elif kw == "enum":
        noun = sch.get("x-noun", "value")
        options = [str(v) for v in sch.get("x-expected", vv)]
        yield _Raw(
            path,
            f"unknown {noun} {show(inst)} (expected one of: {', '.join(options)})" + did_you_mean(inst, options),
            kw,
        )
    elif kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        relation = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }[kw]
        yield _Raw(path, custom or f"must be {relation} {show(vv)} (got {show(inst)})", kw)
    elif kw in ("minItems", "maxItems", "minLength", "maxLength"):
        yield _Raw(path, custom or _size_message(kw, vv), kw)
    elif kw == "uniqueItems":
        if not isinstance(inst, list):
            return
        items = sch.get("items") if isinstance(sch.get("items"), dict) else {}
        noun = sch.get("x-noun") or items.get("x-noun") or "entry"
        seen: list[Any] = []
        for i, item in enumerate(inst):
            if item in seen:
                yield _Raw(path + (i,), f"duplicate {noun} {show(item)}", kw)
            else:
                seen.append(item)
    elif kw == "pattern":
        yield _Raw(path, custom or f"{show(inst)} has an invalid format", kw)
    elif kw in ("minProperties", "maxProperties"):
        yield _Raw(path, custom or "must not be empty", kw)
    elif kw == "oneOf" and "x-exactly-one-of" in sch:
        if not isinstance(inst, dict):
            return
        keys = sch["x-exactly-one-of"]
        present = [k for k in keys if k in inst]
        if not present:
            yield _Raw(path, f"needs one of {quoted_list(keys)}", kw)
        elif len(present) > 1:
            yield _Raw(
                path + (present[1],),
                f"{quoted_list(present, 'and')} cannot be combined; use exactly one",
                kw,
            )
    elif kw in ("not", "const"):
        yield _Raw(path, custom or f"{show(inst)} is not allowed here", kw)
    else:  # pragma: no cover - every keyword the schema uses is handled above
        yield _Raw(path, custom or f"is not valid ({kw})", kw)


def _size_message(keyword: str, limit: int) -> str:
    """minItems/maxItems/minLength/maxLength in words."""
    if keyword.startswith("min") and limit == 1:
        return "must not be empty"
    has = "have" if keyword.endswith("Items") else "be"
    unit = "items" if keyword.endswith("Items") else "characters"
    return f"must {has} {'at least' if keyword.startswith('min') else 'at most'} {limit} {unit}"


def _transition_key_message(key: Any) -> str:
    allowed = ", ".join(S.TRANSITIONS)
    key = str(key)
    if "->" not in key:
        hint = did_you_mean(key, S.TRANSITIONS)
        return f"unknown transition '{clip(key)}': keys look like 'src->dst' (expected one of: {allowed}){hint}"
    src, dst = (part.strip() for part in key.split("->", 1))
    for stage in (src, dst):
        if stage not in V.STAGES:
            return (
                f"unknown stage '{clip(stage)}' in transition '{clip(key)}' "
                f"(expected one of: {', '.join(V.STAGES)})" + did_you_mean(stage, V.STAGES)
            )
    canonical = S.transition_key(src, dst)
    if canonical in S.TRANSITIONS:
        return f"unknown transition '{clip(key)}'; did you mean '{canonical}'? (no spaces around '->')"
    return f"transition '{clip(canonical)}' is not allowed (expected one of: {allowed})"


# --------------------------------------------------------------------------- semantic checks


def _semantic_issues(data: dict, lines: dict[Path, int]) -> list[PolicyIssue]:
    out: list[PolicyIssue] = []

    def add(path: Path, message: str) -> None:
        out.append(PolicyIssue(format_path(path), message, line_for(lines, path)))

    transitions = data.get("transitions")
    if isinstance(transitions, dict):
        for key, block in transitions.items():
            if isinstance(block, dict):
                _check_transition(("transitions", key), block, add)

    canary = data.get("canary")
    if isinstance(canary, dict):
        if isinstance(transitions, dict) and not any(
            isinstance(k, str) and k.endswith("->production") for k in transitions
        ):
            add(
                ("canary",),
                "a canary applies to promotions into production, but the policy has no transition into production",
            )
        _check_canary(canary, add)
    return out


def _check_transition(base: Path, block: dict, add) -> None:
    gates = block.get("gates")
    gate_ids: dict[str, int] = {}
    if isinstance(gates, list):
        for i, gate in enumerate(gates):
            if not isinstance(gate, dict):
                continue
            gid = gate.get("id")
            if isinstance(gid, str):
                if gid in gate_ids:
                    add(
                        base + ("gates", i, "id"),
                        f"duplicate gate id '{clip(gid)}' (also gates[{gate_ids[gid]}])",
                    )
                else:
                    gate_ids[gid] = i
            _check_gate(base + ("gates", i), gate, add)

    approvals = block.get("approvals")
    if isinstance(approvals, list):
        roles: dict[str, int] = {}
        for i, approval in enumerate(approvals):
            role = approval.get("role") if isinstance(approval, dict) else None
            if not isinstance(role, str):
                continue
            if role in roles:
                add(
                    base + ("approvals", i, "role"),
                    f"duplicate approval role '{clip(role)}' (also approvals[{roles[role]}]); "
                    "to require several people with one role use count",
                )
            else:
                roles[role] = i

    pattern = block.get("ticket_pattern")
    if isinstance(pattern, str):
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            add(base + ("ticket_pattern",), f"not a valid regular expression: {exc}")
        else:
            example = block.get("ticket_example")
            if isinstance(example, str) and not compiled.fullmatch(example):
                add(base + ("ticket_example",), f"{show(example)} does not match ticket_pattern {show(pattern)}")

    emergency = block.get("emergency")
    if isinstance(emergency, dict) and isinstance(gates, list):
        bypassable = emergency.get("bypassable_gates")
        if isinstance(bypassable, list):
            for i, gid in enumerate(bypassable):
                if isinstance(gid, str) and gid not in gate_ids:
                    add(
                        base + ("emergency", "bypassable_gates", i),
                        f"bypassable gate '{clip(gid)}' does not exist in this transition"
                        + did_you_mean(gid, gate_ids),
                    )


def _check_gate(path: Path, gate: dict, add) -> None:
    kind = gate.get("type")
    if kind == "security":
        checks = gate.get("checks", list(S.SECURITY_CHECKS))
        for key in ("license_deny", "license_allow"):
            value = gate.get(key)
            if value and isinstance(checks, list) and "licenses" not in checks:
                add(
                    path + (key,),
                    f"'{key}' has no effect unless checks include 'licenses'",
                )
        deny, allow = gate.get("license_deny"), gate.get("license_allow")
        if isinstance(deny, list) and isinstance(allow, list):
            for i, lic in enumerate(allow):
                if isinstance(lic, str) and lic in deny:
                    add(
                        path + ("license_allow", i),
                        f"license '{clip(lic)}' is both allowed and denied",
                    )
    elif kind == "cost_weighted":
        fp, fn = gate.get("fp_cost"), gate.get("fn_cost")
        if _is_num(fp) and _is_num(fn) and fp == 0 and fn == 0:
            add(path + ("fn_cost",), "fp_cost and fn_cost cannot both be 0")


def _check_canary(canary: dict, add) -> None:
    rules = canary.get("rollback_when")
    if not isinstance(rules, list):
        return
    duration = canary.get("duration_hours")
    seen: dict[tuple[str, str], int] = {}
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        kpi = rule.get("kpi")
        for cond in S.CANARY_CONDITIONS:
            if cond in rule and isinstance(kpi, str):
                if (kpi, cond) in seen:
                    add(
                        ("canary", "rollback_when", i),
                        f"duplicate rollback rule: '{clip(kpi)}' {cond} is already set "
                        f"by rollback_when[{seen[(kpi, cond)]}]",
                    )
                else:
                    seen[(kpi, cond)] = i
        minutes = rule.get("for_minutes")
        if _is_int(minutes) and _is_int(duration) and 1 <= duration <= 720 and minutes > duration * 60:
            add(
                ("canary", "rollback_when", i, "for_minutes"),
                f"must be at most the canary duration ({duration * 60} minutes; got {minutes})",
            )


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# --------------------------------------------------------------------------- defaults


def _defaults_of(definition: dict) -> dict[str, Any]:
    return {k: v["default"] for k, v in definition["properties"].items() if isinstance(v, dict) and "default" in v}


def fill_defaults(data: dict) -> dict:
    """Fill documented defaults into validated policy data, in place; returns it.

    Gates get their schema defaults (performance max_drop only in non_inferiority mode),
    approvals get count 1, transitions get experiment_allowed (true into staging only).
    """
    defs = S.POLICY_SCHEMA["$defs"]
    approval_defaults = _defaults_of(defs["approval"])
    for key, block in data["transitions"].items():
        block.setdefault("experiment_allowed", key.endswith("->staging"))
        for gate in block["gates"]:
            for prop, default in _defaults_of(defs[f"gate_{gate['type']}"]).items():
                if prop == "max_drop" and gate["type"] == "performance":
                    if gate.get("mode", "non_inferiority") != "non_inferiority":
                        continue
                gate.setdefault(prop, copy.deepcopy(default))
        for approval in block["approvals"]:
            for prop, default in approval_defaults.items():
                approval.setdefault(prop, default)
    return data
