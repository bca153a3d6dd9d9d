"""Renderers of explanation steps: plain text (a tree, stable for golden files), the terminal (rich,
with colour), Markdown, HTML and JSON. Every renderer shows the same facts: title, ✓/✗/?,
clause ids and the quoted Chinese text."""

from __future__ import annotations

import html
import io
import json
import re

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from explain.derivation import Step


def mark(s: Step) -> str:
    if s.unknown:
        return "?"
    return {True: "✓", False: "✗", None: ""}[s.holds]


def flat(text: str) -> str:
    """Line breaks inside a quoted clause (from the seed's layout) joined, so trees stay one line
    per step; Chinese needs no space at the join."""
    return re.sub(r"\s*\n\s*", "", text)


def _line(s: Step, quotes: bool = True) -> str:
    text = f"{flat(s.title)} {mark(s)}".rstrip()
    if s.clauses:
        text += f"  [{', '.join(s.clauses)}]"
    if quotes and s.quote:
        text += f"  「{flat(s.quote)}」"
    return text


def text(steps: list[Step]) -> str:
    lines: list[str] = []

    def walk(s: Step, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else prefix + ("└─ " if last else "├─ ")
        lines.append(branch + _line(s))
        child_prefix = prefix + ("   " if last else "│  ") if not top else ""
        for i, c in enumerate(s.children):
            walk(c, child_prefix, i == len(s.children) - 1, False)

    for s in steps:
        walk(s, "", True, True)
    return "\n".join(lines)


_STYLE = {True: "green", False: "red", None: ""}


def _rich_label(s: Step) -> str:
    style = "yellow" if s.unknown else _STYLE[s.holds]
    title = escape(flat(s.title))
    if s.kind in ("output", "rule"):
        title = f"[bold]{title}[/bold]"
    m = mark(s)
    body = f"{title} [{style}]{m}[/{style}]" if m and style else title
    if s.clauses:
        body += f"  [cyan]\\[{escape(', '.join(s.clauses))}][/cyan]"
    if s.quote:
        body += f"  [italic dim]「{escape(flat(s.quote))}」[/italic dim]"
    return body


def rich_trees(steps: list[Step]) -> list[Tree]:
    def add(tree: Tree, s: Step) -> None:
        for c in s.children:
            add(tree.add(_rich_label(c)), c)

    out = []
    for s in steps:
        t = Tree(_rich_label(s), guide_style="dim")
        add(t, s)
        out.append(t)
    return out


def terminal(steps: list[Step], console: Console | None = None) -> None:
    """Print the trees to a terminal with colours (✓ green, ✗ red, ? yellow, clauses cyan)."""
    console = console or Console()
    for t in rich_trees(steps):
        console.print(t)


def rich_text(steps: list[Step], width: int = 160) -> str:
    """What `terminal` prints, without colour codes (for tests and pipes)."""
    buf = io.StringIO()
    terminal(steps, Console(file=buf, width=width, color_system=None, highlight=False))
    return buf.getvalue().rstrip("\n")


def markdown(steps: list[Step]) -> str:
    lines: list[str] = []

    def walk(s: Step, depth: int) -> None:
        body = _line(s, quotes=False).replace("|", "\\|")
        if s.quote:
            body += f" — 「{flat(s.quote)}」"
        lines.append("  " * depth + f"- {'**' + body + '**' if depth == 0 else body}")
        for c in s.children:
            walk(c, depth + 1)

    for s in steps:
        walk(s, 0)
    return "\n".join(lines)


def to_html(steps: list[Step], title: str = "elig explanation") -> str:
    def walk(s: Step) -> str:
        cls = "open" if s.unknown else {True: "holds", False: "fails", None: "info"}[s.holds]
        body = html.escape(_line(s, quotes=False))
        if s.quote:
            body += f' <q lang="zh">{html.escape(flat(s.quote))}</q>'
        kids = "".join(walk(c) for c in s.children)
        return f'<li class="{s.kind} {cls}">{body}{f"<ul>{kids}</ul>" if kids else ""}</li>'

    items = "".join(walk(s) for s in steps)
    style = ".holds{color:#176117}.fails{color:#a11}.open{color:#8a6d00}q{color:#444}li{margin:2px 0}"
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1><ul>{items}</ul></body></html>\n"
    )


def to_json(steps: list[Step]) -> str:
    return json.dumps([s.to_json() for s in steps], ensure_ascii=False, indent=2)
