"""The demo's ``index.html``: the week's story, scene by scene, with links to every artefact.

Plain HTML built with :func:`html.escape` on every value (the reports have their own
templates; this page only lists what the demo did and wrote).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from itertools import groupby

from consentkit.demo.stage import Artefact, Group

__all__ = ["index_page"]

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem}li{margin:.3rem 0}"
    ".when{color:#666;font-variant-numeric:tabular-nums}"
    "details{margin:.2rem 0 .6rem 1.4rem;color:#444;font-size:.92rem}code{font-size:.9em}"
)


def index_page(story: Sequence[dict[str, object]], artefacts: Sequence[Artefact], *, week: str,
               elapsed: float) -> str:
    """The page: the story (one item per scene, details folded) and the artefacts by group."""
    scenes = "\n".join(_scene(item) for item in story)
    groups = []
    order = list(Group)
    for group, items in groupby(sorted(artefacts, key=lambda a: (order.index(a.group), a.path)),
                                key=lambda a: a.group):
        links = "".join(f'<li><a href="{escape(a.path)}">{escape(a.path)}</a> — {escape(a.label)}</li>'
                        for a in items)
        groups.append(f"<h2>{escape(group)}</h2><ul>{links}</ul>")
    return (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>consentkit demo</title>'
        f"<style>{_STYLE}</style><h1>consentkit demo: a week of four services</h1>"
        f"<p>The week of {escape(week)}, played in {elapsed:.1f} s. Every person is synthetic. "
        "Athens (Greece), Östersund (Sweden), Novgorod (Russia) and Almaty (Kazakhstan) each keep the "
        "confidentiality promises of their own law, through the policy pack of their jurisdiction.</p>"
        f"{''.join(groups)}<h2>The week, scene by scene</h2><ol>{scenes}</ol>"
        '<h2>Try it yourself</h2><p>The database and keys are in this folder: '
        "<code>consentkit --db sqlite:///consentkit.db --keys keys --actor dpo.anna audit verify</code> "
        "(run it here), and the same against <code>tampered/consentkit-tampered.db</code> exits 4.</p>"
        f'<p><a href="demo.json">demo.json</a>: the machine-readable summary.</p></html>\n')


def _scene(item: dict[str, object]) -> str:
    details = item.get("details") or []
    folded = ""
    if isinstance(details, list) and details:
        folded = "<details><summary>details</summary><ul>" + "".join(
            f"<li>{escape(str(d))}</li>" for d in details) + "</ul></details>"
    return (f'<li><span class="when">{escape(str(item["when"]))}</span> '
            f"{escape(str(item['line']))}{folded}</li>")
