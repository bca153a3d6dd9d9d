"""The clingo backend's nodes: how a translation reads a sub-expression's atoms and emits rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from solver import ir
from solver.backends.clingo_asp import _BINDS_K, _dpat
from solver.passes.calendar import CalendarBounds


@dataclass(frozen=True)
class _H:
    """How a parent reads a sub-expression, chosen so that gringo gets few statements:
    a constant term folded into the parent's rules, an input fact read directly, a node with
    atoms v<N>(K,Value) (and unk<N>(K,Cause) when it can be unknown), or a two-valued bool
    read from one atom (true iff it holds). `neg` inverts a bool; `mu`: can be unknown."""

    node: int = -1
    const: str = ""
    inp: str = ""  # quoted input name, read from pred(K,Name,Value)
    pred: str = ""
    atom: str = ""
    neg: bool = False
    mu: bool = False
    ymd: tuple[int, int, int] | None = None  # a date constant's parts (its day number via dn/4)


_TRUE, _FALSE = _H(const="true"), _H(const="false")
_IMPOSSIBLE = "#false"


@dataclass
class _Nodes:
    """The state of one part's translation and how it reads and emits the atoms of its nodes."""

    rs: ir.RuleSet
    partial: bool
    counter: list[int]  # shared by both parts so node ids (and base facts keyed by them) are unique
    base: list[str]
    lines: list[str] = field(default_factory=list)
    memo: dict[object, _H] = field(default_factory=dict)
    out_mu: dict[str, bool] = field(default_factory=dict)
    out_fails: dict[str, bool] = field(default_factory=dict)
    fresh: list[int] = field(default_factory=lambda: [0])
    calendar: CalendarBounds = field(init=False)

    def __post_init__(self) -> None:
        self.calendar = CalendarBounds(self.rs)

    # -- reading handles

    def new(self, mu: bool, what: str) -> _H:
        n = self.counter[0]
        self.counter[0] += 1
        self.lines.append(f"% {n}: {what}")
        return _H(node=n, mu=mu)

    def atom(self, what: str) -> tuple[int, str]:
        """A fresh two-valued bool atom t<N>(K)."""
        n = self.counter[0]
        self.counter[0] += 1
        self.lines.append(f"% {n}: {what}")
        return n, f"t{n}(K)"

    def emit(self, head: str, *body: str) -> None:
        if _IMPOSSIBLE in body:
            return
        if not any(_BINDS_K.match(b) for b in body):
            body = ("person(K)", *body)
        self.lines.append(f"{head} :- {', '.join(body)}.")

    def var(self, stem: str) -> str:
        self.fresh[0] += 1
        return f"{stem}{self.fresh[0]}"

    def val(self, h: _H, pat: str) -> list[str]:
        """Literals that hold when h is known with a value matching pat."""
        if h.ymd:
            y, m, d = h.ymd
            n = self.var("Nc")
            return [f"dn({y},{m},{d},{n})", f"{pat}=d({y},{m},{d},{n})"]
        if h.const:
            return [f"{pat}={h.const}"]
        if h.inp:
            return [f"{h.pred}(K,{h.inp},{pat})"]
        if h.atom or h.neg:
            h = self.two_valued(h)
        return [f"v{h.node}(K,{pat})"]

    def truth(self, h: _H, t: bool) -> list[str]:
        """Literals that hold when bool h is known to be t."""
        t = t != h.neg
        if h.const:
            return [] if h.const == ("true" if t else "false") else [_IMPOSSIBLE]
        if h.atom:
            return [h.atom] if t else [f"not {h.atom}"]
        word = "true" if t else "false"
        return [f"{h.pred}(K,{h.inp},{word})"] if h.inp else [f"v{h.node}(K,{word})"]

    def unk(self, h: _H, w: str) -> list[str]:
        """Literals that hold when h is unknown with cause w (only for h.mu)."""
        if h.inp:
            return [f"not given(K,{h.inp})", f"{w}=miss({h.inp})"]
        return [f"unk{h.node}(K,{w})"]

    def day(self, h: _H, var: str) -> list[str]:
        """Literals binding var to date h's day number."""
        if h.ymd:
            y, m, d = h.ymd
            return [f"dn({y},{m},{d},{var})"]
        return [f"v{h.node}(K,{_dpat(n=var)})"]

    def two_valued(self, h: _H) -> _H:
        """A node with atoms v<N>(K,true|false) for a bool read some other way."""
        key = ("node", h)
        if key not in self.memo:
            n = self.new(h.mu, "bool value")
            self.emit(f"v{n.node}(K,true)", *self.truth(h, True))
            self.emit(f"v{n.node}(K,false)", *self.truth(h, False))
            self.inherit(n, [h])
            self.memo[key] = n
        return self.memo[key]

    def negate(self, h: _H) -> _H:
        """Kleene not: the same handle with truth inverted (unknown stays unknown)."""
        if h.const:
            return _FALSE if h.const == "true" else _TRUE
        return replace(h, neg=not h.neg)

    def inherit(self, n: _H, children: Iterable[_H], *cond: str) -> None:
        """Unknown operands make n unknown with their causes (under cond)."""
        for c in dict.fromkeys(replace(c, neg=False) for c in children if c.mu):
            self.emit(f"unk{n.node}(K,W)", *self.unk(c, "W"), *cond)
