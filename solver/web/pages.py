"""Server-rendered HTML: the interview, an output's page (readings, why-not, smallest change), the
check and diff pages. Every value shown is escaped; no script is needed (a running job's page
refreshes itself)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

from explain.derivation import Lang, Step
from explain.render import flat, mark
from solver import ir

STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em;color:#222}
nav a{margin-right:1em} .error{color:#a11;font-weight:bold} .holds{color:#176117} .fails{color:#a11}
.open{color:#8a6d00} q{color:#444} li{margin:2px 0} .clause{color:#036;font-family:monospace}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
fieldset{margin:1em 0} .muted{color:#666} details{margin:3px 0}
"""


def page(title: str, body: str, refresh: int = 0) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    nav = '<nav><a href="/interview">interview</a><a href="/check">check</a><a href="/diff">diff</a>' + (
        '<a href="/openapi.json">API (OpenAPI)</a></nav>'
    )
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8">{meta}<title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{nav}<h1>{escape(title)}</h1>{body}</body></html>"
    )


def js_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def person_json(person: Mapping[str, Any]) -> str:
    return json.dumps({k: js_value(v) for k, v in person.items()}, ensure_ascii=False, sort_keys=True)


@dataclass
class State:
    """What an interview page carries from one request to the next (all in the URL)."""

    person: dict[str, ir.Value] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    lang: Lang = "zh"
    goal: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)

    def params(self, **extra: str) -> dict[str, str]:
        out = {
            "person": person_json(self.person),
            "options": json.dumps(self.options, ensure_ascii=False, sort_keys=True),
            "lang": self.lang,
            "goal": ",".join(self.goal),
            "skip": ",".join(self.skip),
        }
        return {**out, **extra}

    def url(self, path: str = "/interview", **extra: str) -> str:
        return f"{path}?{urlencode(self.params(**extra))}"

    def hidden(self, *leave_out: str) -> str:
        return "".join(
            f'<input type="hidden" name="{k}" value="{escape(v)}">'
            for k, v in self.params().items()
            if k not in leave_out
        )


def tree(steps: Sequence[Step]) -> str:
    """An explanation tree as nested lists: ✓/✗/?, clause ids and the quoted Chinese text."""

    def walk(s: Step) -> str:
        cls = "open" if s.unknown else {True: "holds", False: "fails", None: "info"}[s.holds]
        body = escape(f"{flat(s.title)} {mark(s)}".rstrip())
        if s.clauses:
            body += " " + " ".join(f'<span class="clause">[{escape(c)}]</span>' for c in s.clauses)
        if s.quote:
            body += f' <q lang="zh" class="quote">{escape(flat(s.quote))}</q>'
        kids = "".join(walk(c) for c in s.children)
        return f'<li class="{s.kind} {cls}">{body}{f"<ul>{kids}</ul>" if kids else ""}</li>'

    return f'<ul class="tree">{"".join(walk(s) for s in steps)}</ul>'


def label(rs: ir.RuleSet, name: str, lang: Lang) -> str:
    for table in (rs.inputs, rs.outputs, rs.definitions):
        if name in table:
            labels: ir.Labels = table[name].labels
            return (labels.zh if lang == "zh" else labels.en) or name
    return name


def value_label(rs: ir.RuleSet, t: ir.EnumT, v: str, lang: Lang) -> str:
    lab = rs.value_labels.get(t.name, {}).get(v)
    text = (lab.zh if lang == "zh" else lab.en) if lab else ""
    return f"{text} ({v})" if text else v


def widget(rs: ir.RuleSet, name: str, lang: Lang, current: str = "") -> str:
    """The input element for one field, by its type (enum and bool: a choice; others: text)."""
    t = rs.inputs[name].type
    if isinstance(t, ir.EnumT | ir.BoolT):
        values = list(t.values) if isinstance(t, ir.EnumT) else ["true", "false"]
        yes_no = {"true": "是 / yes", "false": "否 / no"}
        opts = "".join(
            f'<option value="{escape(v)}"{" selected" if v == current else ""}>'
            f"{escape(value_label(rs, t, v, lang) if isinstance(t, ir.EnumT) else yes_no[v])}</option>"
            for v in values
        )
        return f'<select id="answer" name="value">{opts}</select>'
    hint = "YYYY-MM-DD" if isinstance(t, ir.DateT) else ""
    return f'<input id="answer" name="value" type="text" placeholder="{hint}" value="{escape(current)}" autofocus>'


def domain_hint(t: ir.Type) -> str:
    from solver.person import domain

    return domain(t)
