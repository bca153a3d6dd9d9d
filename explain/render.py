"""Renderers of derivation steps: plain text (a tree), Markdown, HTML and JSON."""

from __future__ import annotations

import html
import json

from explain.derivation import Step

_MARK = {True: "✓", False: "✗", None: ""}


def _line(s: Step, quotes: bool = True) -> str:
    mark = _MARK[s.holds]
    text = f"{s.title} {mark}".rstrip()
    if s.clauses:
        text += f"  [{', '.join(s.clauses)}]"
    if quotes and s.quote:
        text += f"  「{s.quote}」"
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


def markdown(steps: list[Step]) -> str:
    lines: list[str] = []

    def walk(s: Step, depth: int) -> None:
        body = _line(s, quotes=False).replace("|", "\\|")
        if s.quote:
            body += f" — 「{s.quote}」"
        lines.append("  " * depth + f"- {'**' + body + '**' if depth == 0 else body}")
        for c in s.children:
            walk(c, depth + 1)

    for s in steps:
        walk(s, 0)
    return "\n".join(lines)


def to_html(steps: list[Step], title: str = "elig explanation") -> str:
    def walk(s: Step) -> str:
        cls = {True: "holds", False: "fails", None: "open"}[s.holds]
        body = html.escape(_line(s, quotes=False))
        if s.quote:
            body += f' <q lang="zh">{html.escape(s.quote)}</q>'
        kids = "".join(walk(c) for c in s.children)
        return f'<li class="{s.kind} {cls}">{body}{f"<ul>{kids}</ul>" if kids else ""}</li>'

    items = "".join(walk(s) for s in steps)
    style = ".holds{color:#176117}.fails{color:#a11}q{color:#444}li{margin:2px 0}"
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1><ul>{items}</ul></body></html>\n"
    )


def to_json(steps: list[Step]) -> str:
    return json.dumps([s.to_json() for s in steps], ensure_ascii=False, indent=2)
