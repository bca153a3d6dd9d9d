"""The one reading layer for every file elig reads (rules, persons, cases, properties, accepted,
checklists, changes): YAML or JSON -> plain data that remembers where every value came from.

Every read has limits (size, nesting depth, nodes after alias expansion) and every failure is a
RuleError with file:line:col. Only plain data comes out: mappings, lists, text, true/false, null,
decimal whole numbers, decimal fractions and calendar dates written YYYY-MM-DD. Everything YAML
would guess beyond that (`on`/`no` booleans, `0x7E9`, `2_025`, sexagesimal numbers, timestamps
with times) stays text, so the vocabulary's own domain decides. Tags, merge keys (`<<`) and
duplicate keys are refused, in JSON too."""

from __future__ import annotations

import datetime as dt
import errno
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from solver.errors import RuleError, excerpt
from solver.ir import Loc

Path_ = tuple[str | int, ...]

MAX_BYTES = 8 * 1024 * 1024  # far above any real rule or person file
MAX_DEPTH = 64  # nesting of mappings/lists; rule files use about 6
MAX_NODES = 200_000  # values after alias expansion (a billion-laughs document stops here)
MAX_DIGITS = 40  # a whole number longer than this is out of every domain

_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_NULL = re.compile(r"(?:~|null|Null|NULL|)")
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)")
_PLAIN_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}


class _Resolver(yaml.resolver.BaseResolver):
    """Implicit types by exact decimal patterns only (the constructor below re-checks them)."""


_Resolver.yaml_implicit_resolvers = {}
for _tag, _rx, _first in (
    ("bool", _BOOL, "tTfF"),
    ("int", _INT, "-+0123456789"),
    ("float", _FLOAT, "-+.0123456789"),
    ("null", _NULL, ["~", "n", "N", ""]),
    ("timestamp", _DATE, "0123456789"),
):
    _Resolver.add_implicit_resolver("tag:yaml.org,2002:" + _tag, re.compile(f"^(?:{_rx.pattern})$"), list(_first))


class _Nesting:
    """A nesting limit on PyYAML's composer (its recursion would otherwise overflow the stack)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[attr-defined]
            raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
        try:
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.depth -= 1


class _Composer(
    _Nesting, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Resolver
):
    """PyYAML's pure-Python reader, scanner, parser and composer: the reference, and the one whose
    error messages elig reports."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


_FAST = bool(getattr(yaml, "__with_libyaml__", False))
if _FAST:
    from yaml._yaml import CParser

    class _FastComposer(_Nesting, yaml.composer.Composer, CParser, _Resolver):
        """The same composer over libyaml's scanner and parser (several times faster). Only used
        on text the pure reader accepts; any error is reported by re-reading with _Composer."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            yaml.composer.Composer.__init__(self)
            _Resolver.__init__(self)
            self.flow = 0

        # libyaml reads `{a:1}` as the key `a:1` (YAML 1.2); PyYAML refuses a ':' in a plain
        # scalar of a flow collection. Such text goes to the pure composer, so both read alike.
        def compose_scalar_node(self, anchor: Any) -> Any:
            node = super().compose_scalar_node(anchor)
            if self.flow and not node.style and ":" in node.value:  # plain: None here, "" in libyaml
                raise yaml.YAMLError("a ':' in a plain scalar of a flow collection")
            return node

        def compose_sequence_node(self, anchor: Any) -> Any:
            return self._collection(super().compose_sequence_node, anchor)

        def compose_mapping_node(self, anchor: Any) -> Any:
            return self._collection(super().compose_mapping_node, anchor)

        def _collection(self, compose: Any, anchor: Any) -> Any:
            flow = bool(getattr(self.peek_event(), "flow_style", False))
            self.flow += flow
            try:
                return compose(anchor)
            finally:
                self.flow -= flow


def _compose(text: str) -> Any:
    """The root node of TEXT: by libyaml where it is installed, else (and to report any error) by
    the pure-Python composer. Text the two may read apart goes to the pure one: a character its
    reader refuses, a tab or a '?' (both of which PyYAML refuses in places libyaml takes)."""
    if _FAST and "\t" not in text and "?" not in text and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        fast = _FastComposer(text)
        try:
            return fast.get_single_node()
        except yaml.YAMLError:
            pass  # reported below, in the pure composer's words
        finally:
            fast.dispose()
    composer = _Composer(text)  # the reader refuses control characters here already
    try:
        return composer.get_single_node()
    finally:
        composer.dispose()


@dataclass
class Located:
    """Plain data plus the position of every value and key, addressed by path."""

    data: Any
    file: str
    value_locs: dict[Path_, Loc] = field(default_factory=dict)
    key_locs: dict[Path_, Loc] = field(default_factory=dict)

    def loc(self, path: Path_, *, key: bool = False) -> Loc:
        """Position of the value (or key) at path; falls back to the nearest enclosing value."""
        table = self.key_locs if key else self.value_locs
        for n in range(len(path), -1, -1):
            p = path[:n]
            if p in table:
                return table[p]
            if p in self.value_locs:
                return self.value_locs[p]
        return Loc(self.file, 1, 1)


def _mark(file: str, node: yaml.Node) -> Loc:
    # For a quoted scalar point at its first character, so offsets inside expressions line up.
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    return Loc(file, node.start_mark.line + 1, node.start_mark.column + 1 + quoted)


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def read_text(path: Path, display: str | None = None) -> str:
    """The text of a file: checked to be a readable file within the size limit, UTF-8 (a UTF-16
    or UTF-8 byte-order mark is honoured), without NUL characters."""
    name = display or str(path)

    def fail(message: str, hint: str = "", line: int = 0, col: int = 0) -> RuleError:
        return RuleError(Loc(name, line, col), message, hint=hint)

    try:
        if not path.exists():
            if not path.is_symlink():
                raise fail("no such file")
            try:
                path.stat()
            except OSError as e:
                loop = e.errno == errno.ELOOP
                raise fail("a loop of symbolic links" if loop else "a symbolic link to nothing") from None
        if path.is_dir():
            raise fail("this is a folder, not a file", hint="name a .yaml or .json file")
        if not path.is_file():
            raise fail("not a regular file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise fail(f"file too large ({size} bytes; the limit is {MAX_BYTES})")
        raw = path.read_bytes()
    except RuleError:
        raise
    except (OSError, RuntimeError, ValueError) as e:  # loops of links, names too long, no permission
        raise fail(f"cannot read this file: {getattr(e, 'strerror', None) or e}") from None
    if len(raw) > MAX_BYTES:
        raise fail(f"file too large (the limit is {MAX_BYTES} bytes)")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding, raw = "utf-16", raw
    elif raw.startswith(b"\xef\xbb\xbf"):
        encoding, raw = "utf-8", raw[3:]
    else:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        before = raw[: e.start].decode(encoding, errors="replace")
        line, col = _position(before, len(before))
        raise fail(
            f"not {encoding.upper()} text (byte {e.start}: {e.reason})",
            hint="save the file as UTF-8",
            line=line,
            col=col,
        ) from None
    if encoding == "utf-16":
        text = text.removeprefix("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        line, col = _position(text, nul)
        raise fail("the file contains a NUL character", hint="save the file as UTF-8 text", line=line, col=col)
    return text


def load(path: Path, display: str | None = None) -> Located:
    """Read a YAML file (or a JSON file, by its .json suffix) within the limits above."""
    name = display or str(path)
    text = read_text(path, name)
    if path.suffix.lower() == ".json":
        return _load_json(text, name)
    return parse_yaml(text, name)


read_data = load


def parse_yaml(text: str, name: str) -> Located:
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = Loc(name, mark.line + 1, mark.column + 1) if mark else Loc(name, 1, 1)
        raise RuleError(
            loc,
            f"this is not valid YAML: {e.problem or e.context}",
            expected="a YAML mapping of sections (see solver/language/README.md)",
            hint="check indentation and quote expressions that contain ':' or start with a quote",
        ) from None
    except yaml.YAMLError as e:  # reader errors carry a position of their own
        pos = getattr(e, "position", None)
        line, col = _position(text, pos) if isinstance(pos, int) else (1, 1)
        if isinstance(e, yaml.reader.ReaderError) and isinstance(e.character, int):
            what = f"the control character U+{e.character:04X} is not allowed in YAML"
            raise RuleError(
                Loc(name, line, col), what, hint="remove it, or write it as an escape in double quotes"
            ) from None
        raise RuleError(Loc(name, line, col), f"this is not valid YAML: {e}") from None
    out = Located(None, name)
    budget = [MAX_NODES]
    open_nodes: set[int] = set()

    def convert(node: yaml.Node, p: Path_) -> Any:
        loc = _mark(name, node)
        budget[0] -= 1
        if budget[0] < 0:
            raise RuleError(loc, f"more than {MAX_NODES} values (aliases expanding without end?)")
        if id(node) in open_nodes:
            raise RuleError(loc, "an alias refers to a value that contains it (a recursive alias)")
        if node.tag not in _PLAIN_TAGS:
            raise RuleError(
                loc,
                f"the tag {excerpt(node.tag)} is not allowed",
                expected="plain data: mappings, lists, text, numbers, true/false, dates",
                hint="remove the tag (a value starting with ! or !! must be quoted to be text)",
            )
        out.value_locs[p] = loc
        if isinstance(node, yaml.MappingNode):
            open_nodes.add(id(node))
            result: dict[Any, Any] = {}
            for knode, vnode in node.value:
                if isinstance(knode, yaml.ScalarNode) and knode.value == "<<" and not knode.style:
                    raise RuleError(_mark(name, knode), "merge keys (<<) are not allowed", hint="write the keys out")
                k = convert(knode, (*p, "<key>"))
                if not isinstance(k, str | int) or isinstance(k, bool):
                    raise RuleError(_mark(name, knode), f"a key must be a name, not {excerpt(k)}")
                key = str(k)
                if key in result:
                    first = out.key_locs[(*p, key)]
                    raise RuleError(
                        _mark(name, knode),
                        f"duplicate key {excerpt(key)} (first at line {first.line})",
                        hint="merge the two entries or rename one",
                    )
                out.key_locs[(*p, key)] = _mark(name, knode)
                result[key] = convert(vnode, (*p, key))
            open_nodes.discard(id(node))
            return result
        if isinstance(node, yaml.SequenceNode):
            open_nodes.add(id(node))
            items = [convert(v, (*p, i)) for i, v in enumerate(node.value)]
            open_nodes.discard(id(node))
            return items
        return _scalar(node.tag.rsplit(":", 1)[-1], node.value, loc)

    out.data = {} if root is None else convert(root, ())
    return out


def _scalar(kind: str, value: str, loc: Loc) -> Any:
    """A scalar by its (resolved or explicit) plain tag; an explicit tag must fit its pattern."""
    if kind == "str":
        return value
    if kind == "null" and _NULL.fullmatch(value):
        return None
    if kind == "bool" and _BOOL.fullmatch(value):
        return value.lower() == "true"
    if kind == "int" and _INT.fullmatch(value):
        return _whole(value, loc)
    if kind == "float" and _FLOAT.fullmatch(value):
        return float(value)
    if kind == "timestamp" and (m := _DATE.fullmatch(value)):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError as e:
            raise RuleError(
                loc, f"{value} is not a calendar date ({e})", expected="a date YYYY-MM-DD that exists"
            ) from None
    raise RuleError(loc, f"{excerpt(value)} is not a {kind}", hint="quote it to make it text")


def _whole(digits: str, loc: Loc) -> int:
    if len(digits.lstrip("+-")) > MAX_DIGITS:
        raise RuleError(loc, f"a whole number of {len(digits)} digits (at most {MAX_DIGITS})")
    return int(digits)


def _json_depth_check(text: str, name: str) -> None:
    """Refuse nesting beyond MAX_DEPTH before json (whose parser recurses) sees the text."""
    depth, in_string, escaped = 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise RuleError(Loc(name, *_position(text, i)), f"nesting deeper than {MAX_DEPTH} levels")
        elif ch in "]}":
            depth -= 1


def _load_json(text: str, name: str) -> Located:
    _json_depth_check(text, name)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                # json does not report positions of keys: point at the key's second spelling.
                spelled = [mt.start() for mt in re.finditer(re.escape(json.dumps(k)) + r"\s*:", text)]
                at = spelled[1] if len(spelled) > 1 else 0
                raise RuleError(
                    Loc(name, *_position(text, at)),
                    f"duplicate key {excerpt(k)}",
                    hint="merge the two entries or rename one",
                )
            out[k] = v
        return out

    def whole(s: str) -> int:
        return _whole(s, Loc(name, 1, 1))

    def constant(s: str) -> Any:
        raise RuleError(Loc(name, 1, 1), f"{s} is not a JSON number", hint="write a decimal number")

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_int=whole, parse_constant=constant)
    except json.JSONDecodeError as e:
        raise RuleError(Loc(name, e.lineno, e.colno), f"not valid JSON: {e.msg}") from None
    except RecursionError:  # pragma: no cover - the depth check runs first
        raise RuleError(Loc(name, 1, 1), f"nesting deeper than {MAX_DEPTH} levels") from None
    return Located(data, name)  # JSON has no dates: they stay text for the vocabulary to read
