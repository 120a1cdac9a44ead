"""Reading an import file: YAML (JSON is YAML too) into plain Python data, safely.

Only `yaml.safe_load` semantics (no Python objects), and three guards a hostile or
broken file could otherwise get past:

- size: a file over MAX_BYTES is refused before it is parsed;
- aliases: a document with more than MAX_ALIASES alias references, or whose aliases
  would expand to more than MAX_ALIAS_NODES nodes ("billion laughs"), is refused;
- duplicate keys in one mapping are refused (YAML would silently keep the last one,
  dropping e.g. a whole `time:` list).

A text that starts with `{` is read as JSON first (JSON allows tab indentation, YAML
does not); if it is not JSON it is read as YAML. Problems carry the path "" (the
whole file) or "line N".
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from billpact.importing.validate import Problem

MAX_BYTES = 256 * 1024 * 1024
MAX_ALIASES = 1000
MAX_ALIAS_NODES = 1_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _LimitExceeded(yaml.MarkedYAMLError):
    """A guard refused the document."""


# libyaml's parser when PyYAML was built with it (several times faster); the same safe constructor.
if TYPE_CHECKING:
    _Loader = yaml.SafeLoader
else:
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BoundedLoader(_Loader):
    """A safe loader that refuses alias bombs, recursive aliases and duplicate keys.

    The document is composed into its node graph first; an alias is the same node met a
    second time, so the graph tells how many aliases there are and what they expand to
    before anything is constructed.
    """

    def __init__(self, stream: str, *, aliases_possible: bool = True) -> None:
        super().__init__(stream)
        self.aliases_possible = aliases_possible

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        if self.aliases_possible:
            check_aliases(node)
        return self.construct_document(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if duplicate:
                raise ConstructorError(None, None, f"duplicate key {key!r} in one mapping",
                                       key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


    def construct_lenient_timestamp(self, node: ScalarNode) -> Any:
        """An impossible date (2026-13-01) stays text, so validation names it with its path."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", BoundedLoader.construct_lenient_timestamp)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_aliases(root: Node) -> None:
    """Raise when the graph has more than MAX_ALIASES alias references, expands by more than
    MAX_ALIAS_NODES nodes through them, or is recursive. Linear in the composed graph."""
    sizes: dict[int, int] = {}          # expanded size of each finished node
    active = {id(root)}
    stack = [(root, iter(_children(root)))]
    aliases = expansion = 0
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            active.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
            continue
        if id(child) in active:
            raise _LimitExceeded(problem="a recursive alias (a value that contains itself)",
                                 problem_mark=node.start_mark)
        if id(child) not in sizes:
            active.add(id(child))
            stack.append((child, iter(_children(child))))
            continue
        aliases += 1                    # a finished node met again: an alias reference
        expansion += sizes[id(child)]
        if aliases > MAX_ALIASES:
            raise _LimitExceeded(problem=f"more than {MAX_ALIASES} alias references (*name)",
                                 problem_mark=node.start_mark)
        if expansion > MAX_ALIAS_NODES:
            raise _LimitExceeded(problem=f"aliases expand to more than {MAX_ALIAS_NODES} values",
                                 problem_mark=node.start_mark)


def _construct_decimal(loader: yaml.SafeLoader, node: ScalarNode) -> Any:
    """A YAML float as the exact Decimal written (`7.1` is Decimal("7.1"), never a binary float).

    Infinity, NaN and YAML 1.1 base-60 floats stay floats (the models reject the first two)."""
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        if ":" in text or text.lower().lstrip("+-") in (".inf", ".nan"):
            raise InvalidOperation
        return Decimal(text)
    except InvalidOperation:
        return loader.construct_yaml_float(node)


BoundedLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


class _DuplicateJsonKey(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # built in C: a million time entries are a million objects
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _DuplicateJsonKey(key)
            seen.add(key)
    return result


def load_text(text: str, source: str) -> tuple[Any, list[Problem]]:
    """The file's data (a mapping), or None and the problems; `source` names the file in messages."""
    if len(text) > MAX_BYTES or (len(text) > MAX_BYTES // 4 and len(text.encode("utf-8")) > MAX_BYTES):
        return None, [too_large(source)]
    try:
        data = _parse(text)
    except _DuplicateJsonKey as exc:
        return None, [Problem("", f"{source}: duplicate key {exc.args[0]!r} in one JSON object")]
    except yaml.MarkedYAMLError as exc:
        return None, [_yaml_problem(exc, source)]
    except yaml.YAMLError as exc:
        return None, [Problem("", f"{source} is not valid YAML: {exc}")]
    except RecursionError:
        return None, [Problem("", f"{source} is nested too deeply")]
    if data is None:
        return None, [Problem("", f"{source} is empty: expected a mapping of top-level keys "
                                  f"(clients, contracts, time, ...)")]
    if not isinstance(data, dict):
        return None, [Problem("", f"the top level of {source} must be a mapping of keys "
                                  f"(clients, contracts, time, ...), not a {_kind(data)}")]
    return data, []


def _parse(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, parse_float=Decimal, object_pairs_hook=_json_object)
        except json.JSONDecodeError:
            pass  # not JSON: YAML flow style, or broken; YAML says which
    loader = BoundedLoader(text, aliases_possible="*" in text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or "not valid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    if mark is None:
        return Problem("", f"{source}: {what}{context}")
    return Problem(f"line {mark.line + 1}", f"{what}{context} (column {mark.column + 1})")


def _kind(data: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "boolean"}.get(
        type(data), type(data).__name__)


def too_large(source: str, limit: int = MAX_BYTES) -> Problem:
    return Problem("", f"{source} is larger than {limit // (1024 * 1024)} MiB; split it into several imports")


def load_file(path: str | Path) -> tuple[Any, list[Problem]]:
    """Read a UTF-8 file (a BOM is allowed) and load it like `load_text`."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_BYTES:
            return None, [too_large(str(file))]
        raw = file.read_bytes()
    except OSError as exc:
        return None, [Problem("", f"cannot read {file}: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem("", f"{file} is not UTF-8 text (byte {exc.start})")]
    return load_text(text, str(file))


__all__ = ["MAX_ALIASES", "MAX_ALIAS_NODES", "MAX_BYTES", "BoundedLoader", "load_file", "load_text"]
