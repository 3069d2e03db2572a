"""One loading policy for untrusted structured input: JSON bodies and documents, YAML
documents, form fields and query strings.

Whatever reaches a service or the database has passed here, so a hostile or careless input
is a refusal naming its field (a `DomainError`, mapped to a 400 by the edges), never a 500:

- size: a JSON text of at most `max_bytes`; nesting at most `MAX_DEPTH` levels (a deeper
  text is refused before Python's recursion limit could be reached, or when the parser hits
  it); at most `MAX_NODES` values;
- numbers: whole numbers of at most `MAX_INT_DIGITS` digits (Python refuses more than 4,300
  when converting), finite floats only (no `NaN`, `Infinity`, `1e999`);
- text: no NUL character (PostgreSQL cannot store it in text or jsonb) and no lone UTF-16
  surrogate such as "\\ud800" (not encodable as UTF-8), in keys and values alike;
- duplicate keys in a JSON object are refused (which one would count?).

Pure Python: no Django.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from governance.core.errors import DomainError

MAX_DEPTH = 64
MAX_NODES = 200_000
MAX_INT_DIGITS = 1000
MAX_JSON_BYTES = 10 * 1024 * 1024
MAX_QUERY_CHARS = 200
BODY = "body"  # the field named when a refusal is about the whole body


class InputRefused(DomainError):
    """Input refused by the loading policy; `fields` names where."""

    default_code = "invalid"


class Unreadable(InputRefused):
    """Not readable JSON or YAML at all; `line` is 1-based when known."""

    def __init__(self, message: str, *, field: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message, field=field)


class _Unfit:
    """A value the parser met but that may not be kept (a huge or non-finite number): the
    tree check finds it and names where it is."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_int(text: str) -> Any:
    if len(text) - (text[:1] == "-") > MAX_INT_DIGITS:
        return _Unfit(f"a whole number of more than {MAX_INT_DIGITS:,} digits")
    return int(text)


def _parse_float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _Unfit(f"numbers must be finite (got {_clip(text)})")


def _parse_constant(name: str) -> Any:
    return _Unfit(f"{name} is not a valid JSON number")


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return result


def where(field: str | None, path: list[str | int]) -> tuple[str, str]:
    """(the field to name, a readable location) of the value at `path` under `field`; in a
    request body (no `field`) the field named is the top-level key."""
    text = field or ""
    for part in path:
        text = f"{text}[{part}]" if isinstance(part, int) else (f"{text}.{part}" if text else str(part))
    name = field or (str(path[0]) if path else "") or BODY  # an empty key names the body
    return name, text or BODY


def _refuse(field: str | None, path: list[str | int], problem: str) -> InputRefused:
    name, location = where(field, path)
    message = f"{location}: {problem}"
    return InputRefused(message, field=name)


def text_problem(value: str) -> str | None:
    """Why a string may not be stored, or None."""
    if "\x00" in value:
        return "the NUL character (\\u0000) is not allowed"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "a lone UTF-16 surrogate (e.g. \\ud800) is not valid text"
    return None


def check_text(value: str, field: str, *, max_chars: int | None = None) -> str:
    problem = text_problem(value)
    if problem is None and max_chars is not None and len(value) > max_chars:
        problem = f"at most {max_chars:,} characters"
    if problem:
        raise InputRefused(f"{field}: {problem}", field=field)
    return value


def check_tree(data: Any, *, field: str | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """Refuse the first value the policy does not allow (depth, count, numbers, text),
    naming `field` and the path inside it. Iterative: any depth is safe to check."""
    stack: list[tuple[Any, list]] = [(data, [])]
    nodes = 0
    while stack:
        node, path = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise _refuse(field, path[:1], f"more than {MAX_NODES:,} values")
        if len(path) > max_depth:
            raise _refuse(field, path[:3], f"nested too deeply (limit {max_depth})")
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    raise _refuse(field, path, "keys must be text")
                problem = text_problem(key)
                if problem:
                    raise _refuse(field, path, f"key {_clip(key)!r}: {problem}")
                stack.append((value, [*path, key]))
        elif isinstance(node, list | tuple):
            stack.extend((value, [*path, index]) for index, value in enumerate(node))
        elif isinstance(node, str):
            problem = text_problem(node)
            if problem:
                raise _refuse(field, path, problem)
        elif isinstance(node, _Unfit):
            raise _refuse(field, path, node.problem)
        elif isinstance(node, float) and not math.isfinite(node):
            raise _refuse(field, path, "numbers must be finite")
        elif isinstance(node, int) and not isinstance(node, bool) and node.bit_length() > MAX_INT_DIGITS * 3.33:
            raise _refuse(field, path, f"a whole number of more than {MAX_INT_DIGITS:,} digits")
        elif not (node is None or isinstance(node, bool | int | float)):
            raise _refuse(field, path, f"unsupported value of type {type(node).__name__}")
    return data


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _deep_key(text: str) -> str | None:
    """The top-level key under which a JSON text nests too deeply (only read after the
    parser gave up, so the cost is paid by the refused request alone)."""
    depth, key, last = 0, None, None
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            if depth == 1:
                key = last
            depth += 1
            if depth > MAX_DEPTH:
                return key
        elif token in "]}":
            depth -= 1
        elif depth == 1:
            last = token[1:-1]
    return key


def json_loads(raw: str | bytes, *, field: str | None = None, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse JSON under the policy. `field` names what the text is (an upload's "file");
    without it the text is a request body and the top-level key is the field named."""
    if len(raw) > max_bytes:
        raise InputRefused(f"{field or BODY}: larger than {max_bytes:,} bytes", field=field or BODY, code="too_large")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputRefused(f"{field or BODY}: not UTF-8 text (byte {exc.start})", field=field or BODY) from None
    try:
        data = json.loads(
            raw,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} (column {exc.colno})"
        if not field:
            message = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise Unreadable(message, field=field or BODY, line=exc.lineno) from None
    except _Duplicate as exc:
        raise InputRefused(f"{field or BODY}: duplicate key {_clip(str(exc))!r}", field=field or BODY) from None
    except RecursionError:
        key = None if field else _deep_key(raw)
        raise _refuse(field, [key] if key else [], f"nested too deeply (limit {MAX_DEPTH})") from None
    return check_tree(data, field=field)


def query_text(params: Mapping[str, str], name: str, *, max_chars: int = MAX_QUERY_CHARS) -> str:
    """A query-string (or form) value, stripped: refused when over-long, with a NUL or a
    surrogate, naming `name`."""
    value = (params.get(name) or "").strip()
    return check_text(value, name, max_chars=max_chars)


def check_form(items: Iterable[tuple[str, list[str]]]) -> None:
    """Every key and value of a form body (QueryDict.lists())."""
    for key, values in items:
        check_text(key, "body")
        for value in values:
            if isinstance(value, str):
                check_text(value, key)


# --- YAML ------------------------------------------------------------------------------


class DepthBoundedLoader(yaml.SafeLoader):
    """A SafeLoader whose nesting is bounded at `max_depth`: counted by the composer, and for
    flow collections (`[`, `{`) already by the scanner, which otherwise looks up to 1,024
    characters ahead of each one, checking every open level each step ("[" * 3000 cost half
    a second before the composer saw the depth). Subclasses say what a refusal is."""

    max_depth: int = MAX_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def too_deep(self, mark: Any, error: type[yaml.MarkedYAMLError] = yaml.composer.ComposerError) -> Exception:
        """The refusal at `mark`; `error` is the stage's own YAML error (composer or scanner)."""
        return error(None, None, f"nested too deeply (limit {self.max_depth})", mark)

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise self.too_deep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 - PyYAML signature
        if self.flow_level >= self.max_depth:  # one more level would be nested beyond the limit
            raise self.too_deep(self.get_mark(), yaml.scanner.ScannerError)
        super().fetch_flow_collection_start(TokenClass)


class _YamlLoader(DepthBoundedLoader):
    """Safe loader without aliases (no "billion laughs"), with bounded nesting, dates kept
    as text and whole numbers of bounded size."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def _yaml_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    if sum(c.isdigit() for c in node.value) > MAX_INT_DIGITS:
        return _Unfit(f"a whole number of more than {MAX_INT_DIGITS:,} digits")
    return loader.construct_yaml_int(node)


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
_YamlLoader.add_constructor("tag:yaml.org,2002:int", _yaml_int)


def yaml_loads(text: str, *, field: str) -> Any:
    """Parse YAML under the policy into JSON types (keys as text)."""
    try:
        data = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise Unreadable(
            f"invalid YAML: {exc.problem or exc.context}",
            field=field,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except yaml.YAMLError as exc:
        raise Unreadable(f"invalid YAML: {exc}", field=field) from None
    except RecursionError:
        raise Unreadable(f"invalid YAML: nested too deeply (limit {MAX_DEPTH})", field=field) from None
    return check_tree(_plain(data, field), field=field)


def _plain(data: Any, field: str, depth: int = 0) -> Any:
    """Keys as text (a YAML key may be a number or a date); depth is bounded by the loader."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(key, _Unfit):
                raise InputRefused(f"{field}: a key is {key.problem}", field=field)
            out[key if isinstance(key, str) else str(key)] = _plain(value, field, depth + 1)
        return out
    if isinstance(data, list):
        return [_plain(value, field, depth + 1) for value in data]
    if data is None or isinstance(data, str | int | float | bool | _Unfit):
        return data
    raise InputRefused(f"{field}: unsupported YAML value of type {type(data).__name__}", field=field)
