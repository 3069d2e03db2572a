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
import difflib
import hashlib
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft202012Validator

from governance.core import vocabulary as V
from governance.core.errors import DomainError

from . import schema as S

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
    content, data, issues = _parse(text)
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


# --------------------------------------------------------------------------- text + YAML


class _Refusal(Exception):
    def __init__(self, mark: Any, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


class _PolicyYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars, no aliases/anchors, bounded depth."""

    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refusal(
                event.start_mark,
                f"YAML aliases are not allowed (found *{event.anchor}); write each value out in full",
            )
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            raise _Refusal(
                event.start_mark,
                f"YAML anchors are not allowed (found &{event.anchor}); write each value out in full",
            )
        self._depth += 1
        try:
            if self._depth > S.MAX_NESTING_DEPTH:
                raise _Refusal(event.start_mark, f"nested deeper than {S.MAX_NESTING_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_TAG = "tag:yaml.org,2002:"
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
for _tag, _regexp, _first in (
    ("null", _NULL_RE, ["~", "n", "N", ""]),
    ("bool", _BOOL_RE, list("tTfF")),
    ("int", _INT_RE, list("-+0123456789")),
    ("float", _FLOAT_RE, list("-+0123456789.")),
):
    _PolicyYamlLoader.add_implicit_resolver(_TAG + _tag, _regexp, _first)


def _decode(text: str | bytes) -> tuple[str | None, list[PolicyIssue]]:
    if isinstance(text, (bytes, bytearray, memoryview)):
        raw = bytes(text)
        if len(raw) > S.MAX_POLICY_BYTES:
            return None, [_too_big(len(raw))]
        try:
            return raw.decode("utf-8"), []
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            bad = raw[exc.start : exc.start + 1].hex()
            return None, [PolicyIssue("", f"not valid UTF-8 text (byte 0x{bad} at offset {exc.start})", line)]
    if not isinstance(text, str):
        raise TypeError(f"parse_policy expects str or bytes, not {type(text).__name__}")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        return None, [PolicyIssue("", "text contains characters that are not valid UTF-8", line)]
    if size > S.MAX_POLICY_BYTES:
        return None, [_too_big(size)]
    return text, []


def _too_big(size: int) -> PolicyIssue:
    return PolicyIssue(
        "",
        f"the policy is too large ({size} bytes; at most {S.MAX_POLICY_BYTES} bytes)",
        None,
    )


def _yaml_error_issue(exc: yaml.YAMLError, text: str) -> PolicyIssue:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return PolicyIssue(
            "",
            f"unacceptable character #x{exc.character:04x}: control characters are not allowed",
            line,
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        if (exc.context or "").startswith("expected a single document"):
            return PolicyIssue("", "only one YAML document is allowed (found a second '---' document)", line)
        problem = exc.problem or "invalid YAML"
        message = f"YAML syntax error: {_printable(problem)}"
        if exc.context:
            message += f" ({_printable(exc.context)})"
        if "\\t" in problem or "\t" in problem:
            message += "; tabs cannot be used for indentation, use spaces"
        return PolicyIssue("", message, line)
    return PolicyIssue("", f"YAML syntax error: {exc}", None)


class _Builder:
    """Turns a composed YAML node tree into Python data, remembering lines."""

    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self.issues: list[PolicyIssue] = []

    def issue(self, path: Path, message: str, line: int) -> None:
        self.issues.append(PolicyIssue(format_path(path), message, line))

    def build(self, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            if node.tag not in (_TAG + "map",):
                self.issue(path, f"unsupported YAML tag '{_short_tag(node.tag)}'", line)
            out: dict[str, Any] = {}
            first_line: dict[str, int] = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    self.issue(path, "keys must be plain strings, not lists or mappings", key_line)
                    continue
                key = self.scalar(key_node, path)
                if not isinstance(key, str):
                    self.issue(
                        path + (str(key),),
                        f"keys must be strings (got {_show(key)}; quote it)",
                        key_line,
                    )
                    continue
                if key in out:
                    self.issue(
                        path + (key,),
                        f"duplicate key '{_clip(key)}' (first defined on line {first_line[key]})",
                        key_line,
                    )
                    continue
                first_line[key] = key_line
                self.lines[path + (key,)] = key_line
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag not in (_TAG + "seq",):
                self.issue(path, f"unsupported YAML tag '{_short_tag(node.tag)}'", line)
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        value, tag, line = node.value, node.tag, node.start_mark.line + 1
        if tag == _TAG + "str":
            return value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            if value.lower() in ("true", "false"):
                return value.lower() == "true"
            self.issue(path, f"cannot read '{value}' as a boolean (use true or false)", line)
            return value
        if tag == _TAG + "int":
            try:
                return int(value, 10)
            except ValueError:
                self.issue(path, f"cannot read '{_clip(value)}' as a whole number", line)
                return value
        if tag == _TAG + "float":
            number = _to_float(value)
            if number is None:
                self.issue(path, f"cannot read '{_clip(value)}' as a number", line)
                return value
            if not math.isfinite(number):
                self.issue(path, f"must be a finite number (got {value})", line)
            return number
        self.issue(path, f"unsupported YAML tag '{_short_tag(tag)}'", line)
        return value


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _to_float(value: str) -> float | None:
    v = value.strip()
    low = v.lower()
    if low in (".inf", "+.inf"):
        return math.inf
    if low == "-.inf":
        return -math.inf
    if low == ".nan":
        return math.nan
    if low.lstrip("+-") in ("inf", "infinity", "nan"):
        return None
    try:
        return float(v)
    except (ValueError, OverflowError):
        return None


def _parse(text: str | bytes) -> tuple[str | None, Any, list[PolicyIssue]]:
    content, issues = _decode(text)
    if content is None:
        return None, None, issues
    loader = None
    try:
        loader = _PolicyYamlLoader(content)
        node = loader.get_single_node()
    except _Refusal as exc:
        return content, None, [PolicyIssue("", exc.message, exc.mark.line + 1)]
    except yaml.YAMLError as exc:
        return content, None, [_yaml_error_issue(exc, content)]
    except RecursionError:
        return content, None, [PolicyIssue("", "the document is nested too deeply", None)]
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return (
            content,
            None,
            [PolicyIssue("", "the policy is empty (expected name, applies_to, transitions)", 1)],
        )
    builder = _Builder()
    data = builder.build(node, ())
    if not isinstance(data, dict):
        builder.issues.append(
            PolicyIssue(
                "",
                f"the top level must be a mapping with name, applies_to and transitions (got {_kind(data)})",
                node.start_mark.line + 1,
            )
        )
        return content, data, builder.issues
    issues = list(builder.issues)
    issues += _schema_issues(data, builder.lines)
    issues += _semantic_issues(data, builder.lines)
    return content, data, issues


# --------------------------------------------------------------------------- display helpers


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = _clip(str(part), 80)
            out += f".{part}" if out else part
    return out


def _printable(text: str) -> str:
    """Escape line breaks and other control characters: one issue, one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _clip(text: str, limit: int = 60) -> str:
    text = _printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
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


def _show(value: Any) -> str:
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
        return "'" + _clip(value) + "'"
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    return type(value).__name__


def _quoted_list(items: Iterable[str], conj: str = "or") -> str:
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


def _did_you_mean(value: Any, options: Iterable[str]) -> str:
    s = suggest(value, options)
    return f"; did you mean '{s}'?" if s else ""


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
                value=_show(error.instance),
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
        yield _Raw(path, f"expected {words} (got {_show(inst)})", kw)
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
                message = f"unexpected key '{_clip(str(key))}'" + (
                    f" (did you mean '{hint}'?)" if hint else f" (allowed: {', '.join(allowed)})"
                )
            yield _Raw(path + (key,), message, kw)
    elif kw == "enum":
        noun = sch.get("x-noun", "value")
        options = [str(v) for v in sch.get("x-expected", vv)]
        yield _Raw(
            path,
            f"unknown {noun} {_show(inst)} (expected one of: {', '.join(options)})" + _did_you_mean(inst, options),
            kw,
        )
    elif kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        relation = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }[kw]
        yield _Raw(path, custom or f"must be {relation} {_show(vv)} (got {_show(inst)})", kw)
    elif kw in ("minItems", "maxItems"):
        if custom:
            message = custom
        elif kw == "minItems":
            message = "must not be empty" if vv == 1 else f"must have at least {vv} items"
        else:
            message = f"must have at most {vv} items"
        yield _Raw(path, message, kw)
    elif kw == "uniqueItems":
        if not isinstance(inst, list):
            return
        items = sch.get("items") if isinstance(sch.get("items"), dict) else {}
        noun = sch.get("x-noun") or items.get("x-noun") or "entry"
        seen: list[Any] = []
        for i, item in enumerate(inst):
            if item in seen:
                yield _Raw(path + (i,), f"duplicate {noun} {_show(item)}", kw)
            else:
                seen.append(item)
    elif kw == "pattern":
        yield _Raw(path, custom or f"{_show(inst)} has an invalid format", kw)
    elif kw in ("minLength", "maxLength"):
        if custom:
            message = custom
        elif kw == "minLength":
            message = "must not be empty" if vv == 1 else f"must be at least {vv} characters"
        else:
            message = f"must be at most {vv} characters"
        yield _Raw(path, message, kw)
    elif kw in ("minProperties", "maxProperties"):
        yield _Raw(path, custom or "must not be empty", kw)
    elif kw == "oneOf" and "x-exactly-one-of" in sch:
        if not isinstance(inst, dict):
            return
        keys = sch["x-exactly-one-of"]
        present = [k for k in keys if k in inst]
        if not present:
            yield _Raw(path, f"needs one of {_quoted_list(keys)}", kw)
        elif len(present) > 1:
            yield _Raw(
                path + (present[1],),
                f"{_quoted_list(present, 'and')} cannot be combined; use exactly one",
                kw,
            )
    elif kw in ("not", "const"):
        yield _Raw(path, custom or f"{_show(inst)} is not allowed here", kw)
    else:  # pragma: no cover - every keyword the schema uses is handled above
        yield _Raw(path, custom or f"is not valid ({kw})", kw)


def _transition_key_message(key: Any) -> str:
    allowed = ", ".join(S.TRANSITIONS)
    key = str(key)
    if "->" not in key:
        hint = _did_you_mean(key, S.TRANSITIONS)
        return f"unknown transition '{_clip(key)}': keys look like 'src->dst' (expected one of: {allowed}){hint}"
    src, dst = (part.strip() for part in key.split("->", 1))
    for stage in (src, dst):
        if stage not in V.STAGES:
            return (
                f"unknown stage '{_clip(stage)}' in transition '{_clip(key)}' "
                f"(expected one of: {', '.join(V.STAGES)})" + _did_you_mean(stage, V.STAGES)
            )
    canonical = S.transition_key(src, dst)
    if canonical in S.TRANSITIONS:
        return f"unknown transition '{_clip(key)}'; did you mean '{canonical}'? (no spaces around '->')"
    return f"transition '{_clip(canonical)}' is not allowed (expected one of: {allowed})"


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
                        f"duplicate gate id '{_clip(gid)}' (also gates[{gate_ids[gid]}])",
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
                    f"duplicate approval role '{_clip(role)}' (also approvals[{roles[role]}]); "
                    "to require several people with one role use count",
                )
            else:
                roles[role] = i

    emergency = block.get("emergency")
    if isinstance(emergency, dict) and isinstance(gates, list):
        bypassable = emergency.get("bypassable_gates")
        if isinstance(bypassable, list):
            for i, gid in enumerate(bypassable):
                if isinstance(gid, str) and gid not in gate_ids:
                    add(
                        base + ("emergency", "bypassable_gates", i),
                        f"bypassable gate '{_clip(gid)}' does not exist in this transition"
                        + _did_you_mean(gid, gate_ids),
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
                        f"license '{_clip(lic)}' is both allowed and denied",
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
                        f"duplicate rollback rule: '{_clip(kpi)}' {cond} is already set "
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

    Gates get their gate_spec defaults (performance max_drop only in non_inferiority mode),
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
