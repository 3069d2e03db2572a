"""Policy YAML text to plain data, with the line of every key and list item.

A restricted loader: strict UTF-8 and a size cap; YAML 1.2 core scalars only (`yes`/`no`/`on`
are strings, `1e3` is a float, no timestamps); no anchors, aliases or merge keys (billion
laughs); bounded nesting; one document. Duplicate keys, non-string keys, unsupported tags
and non-finite numbers are issues with their line. Pure: no Django.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from governance.core.inputs import DepthBoundedLoader
from governance.policies import schema as S
from governance.policies.issues import PolicyIssue, clip, format_path, kind_of, printable, show

Path = tuple  # tuple[str | int, ...]


class _Refusal(Exception):
    def __init__(self, mark: Any, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


class _PolicyYamlLoader(DepthBoundedLoader):
    """SafeLoader with YAML 1.2 core-schema scalars, no aliases/anchors, bounded depth."""

    yaml_implicit_resolvers: dict = {}
    max_depth = S.MAX_NESTING_DEPTH

    def too_deep(self, mark, error=None) -> _Refusal:  # noqa: ANN001 - a PyYAML mark; any stage
        return _Refusal(mark, f"nested deeper than {S.MAX_NESTING_DEPTH} levels")

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
        return super().compose_node(parent, index)


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
        message = f"YAML syntax error: {printable(problem)}"
        if exc.context:
            message += f" ({printable(exc.context)})"
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
                        f"keys must be strings (got {show(key)}; quote it)",
                        key_line,
                    )
                    continue
                if key in out:
                    self.issue(
                        path + (key,),
                        f"duplicate key '{clip(key)}' (first defined on line {first_line[key]})",
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
                self.issue(path, f"cannot read '{clip(value)}' as a whole number", line)
                return value
        if tag == _TAG + "float":
            number = _to_float(value)
            if number is None:
                self.issue(path, f"cannot read '{clip(value)}' as a number", line)
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


def parse_source(text: str | bytes) -> tuple[str | None, Any, dict[Path, int], list[PolicyIssue]]:
    """(text, data, {path: line}, issues). Data is a dict only when the YAML itself is sound
    enough to validate; every problem found on the way is an issue."""
    content, issues = _decode(text)
    if content is None:
        return None, None, {}, issues
    loader = None
    try:
        loader = _PolicyYamlLoader(content)
        node = loader.get_single_node()
    except _Refusal as exc:
        return content, None, {}, [PolicyIssue("", exc.message, exc.mark.line + 1)]
    except yaml.YAMLError as exc:
        return content, None, {}, [_yaml_error_issue(exc, content)]
    except RecursionError:
        return content, None, {}, [PolicyIssue("", "the document is nested too deeply", None)]
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return content, None, {}, [PolicyIssue("", "the policy is empty (expected name, applies_to, transitions)", 1)]
    builder = _Builder()
    data = builder.build(node, ())
    if not isinstance(data, dict):
        builder.issues.append(
            PolicyIssue(
                "",
                f"the top level must be a mapping with name, applies_to and transitions (got {kind_of(data)})",
                node.start_mark.line + 1,
            )
        )
    return content, data, builder.lines, list(builder.issues)
