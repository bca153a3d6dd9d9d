"""Strict YAML: safe loading that remembers where every value came from and rejects duplicate
keys. Only `true`/`false` are booleans (YAML 1.1 would read `on`, `no`, `yes` as booleans)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from solver.errors import RuleError
from solver.ir import Loc

Path_ = tuple[str | int, ...]


class _StrictLoader(yaml.SafeLoader):
    pass


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


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


def load(path: Path, display: str | None = None) -> Located:
    name = display or str(path)
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = Loc(name, mark.line + 1, mark.column + 1) if mark else Loc(name, 1, 1)
        raise RuleError(
            loc,
            f"this is not valid YAML: {e.problem or e.context}",
            expected="a YAML mapping of sections (see solver/language/README.md)",
            hint="check indentation and quote expressions that contain ':' or start with a quote",
        ) from None
    out = Located(None, name)
    constructor = _StrictLoader("")

    def convert(node: yaml.Node, p: Path_) -> Any:
        out.value_locs[p] = _mark(name, node)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for knode, vnode in node.value:
                k = convert(knode, (*p, "<key>"))
                if not isinstance(k, str | int):
                    raise RuleError(_mark(name, knode), f"a key must be a name, not {k!r}")
                key = str(k)
                if key in result:
                    first = out.key_locs[(*p, key)]
                    raise RuleError(
                        _mark(name, knode),
                        f"duplicate key '{key}' (first at line {first.line})",
                        hint="merge the two entries or rename one",
                    )
                out.key_locs[(*p, key)] = _mark(name, knode)
                result[key] = convert(vnode, (*p, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [convert(v, (*p, i)) for i, v in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    out.data = {} if root is None else convert(root, ())
    return out
