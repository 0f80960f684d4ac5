"""Exports of partner reports: JSON, CSV and a self-contained HTML page.

A report is the JSON-ready dict of any partner report (match, listen, content brief,
ambassadors, overlap, campaign, plan, experiment). Its *sections* are the values that are
lists of row dicts; everything else is metadata.

* JSON: the dict as is (ISO 8601 times).
* CSV: one table, a ``section`` column first, then the union of the sections' columns
  (metadata as ``section=meta`` rows of ``key, value``).
* HTML: one page that works offline — Plotly's JavaScript inlined once (no ``src`` or
  ``href`` pointing outside), a chart with its interval per known section, every
  section as a table. All text from the data is HTML-escaped (Plotly's pseudo-HTML
  labels too), so a caption or comment can never become markup.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ..core.errors import InputError

FORMATS = ("json", "csv", "html")

#: section → (label column(s), value, low, high, axis title); the first label found is used
CHARTS: dict[str, tuple[tuple[str, ...], str, str | None, str | None, str]] = {
    "matches": (("name", "community_id"), "score", None, None, "match score"),
    "top_hashtags": (("item",), "share", "share_low", "share_high", "share of videos"),
    "rising_hashtags": (("item",), "growth", "growth_low", "growth_high", "growth of share"),
    "sounds": (("item",), "share", "share_low", "share_high", "share of videos"),
    "effects": (("item",), "share", "share_low", "share_high", "share of videos"),
    "lingo": (("term",), "n_people", None, None, "distinct commenters"),
    "trends": (("item",), "score", None, None, "trend score"),
    "bridges": (("name_b", "b"), "lift", "lift_low", "lift_high", "audience lift"),
    "overlap": (("name_b", "b"), "lift", "lift_low", "lift_high", "audience lift"),
    "pairs": (("b",), "lift", "lift_low", "lift_high", "audience lift"),
    "ambassadors": (("creator_id",), "fit", None, None, "fit"),
    "posting_windows": (
        ("hour",),
        "actions_per_impression",
        "api_low",
        "api_high",
        "per impression",
    ),
    "formats": (("kind",), "per_video", None, None, "per community video"),
    "use_hashtags": (("hashtag",), "weight", None, None, "membership weight"),
    "arms": (("arm",), "rate", "rate_low", "rate_high", "actions per impression"),
    "estimates": (("estimator",), "lift", "ci_low", "ci_high", "relative lift"),
    "variants": (("variant",), "diff_cuped", "ci_low_cuped", "ci_high_cuped", "CUPED diff"),
    "curve": (("n_viewers",), "mde", None, None, "minimum detectable lift"),
}


def _plain(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set):
        return [_plain(x) for x in v]
    return v


def _is_section(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(r, Mapping) for r in v)


def split(report: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(metadata, sections) of a report dict; nested dicts flatten to ``a.b`` keys."""
    if not isinstance(report, Mapping):
        raise InputError("a report is a mapping", field="report")
    meta: dict[str, Any] = {}
    sections: dict[str, list[dict[str, Any]]] = {}

    def walk(prefix: str, d: Mapping[str, Any]) -> None:
        for key, v in d.items():
            name = f"{prefix}{key}"
            if _is_section(v):
                sections[name] = [dict(_plain(r)) for r in v]
            elif isinstance(v, Mapping):
                walk(f"{name}.", v)
            elif isinstance(v, list) and not v and prefix == "" and key != "notes":
                sections.setdefault(name, [])  # an empty section: shown as such
            else:
                meta[name] = _plain(v)

    walk("", report)
    return meta, sections


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list | tuple):
        return "; ".join(_cell(x) for x in v)
    if isinstance(v, Mapping):
        return json.dumps(_plain(v), ensure_ascii=False)
    return str(v)


def to_json(report: Mapping[str, Any]) -> str:
    return json.dumps(_plain(report), ensure_ascii=False, indent=2)


def to_csv(report: Mapping[str, Any]) -> str:
    meta, sections = split(report)
    cols: list[str] = ["section"]
    for rows in sections.values():
        for r in rows:
            cols += [c for c in r if c not in cols]
    cols += [c for c in ("key", "value") if c not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for k, v in meta.items():
        w.writerow({"section": "meta", "key": k, "value": _cell(v)})
    for name, rows in sections.items():
        for r in rows:
            w.writerow({"section": name, **{c: _cell(x) for c, x in r.items()}})
    return buf.getvalue()


def _chart(name: str, rows: list[dict[str, Any]]) -> str | None:
    spec = CHARTS.get(name.rsplit(".", 1)[-1])
    if spec is None or not rows:
        return None
    labels, y, lo, hi, title = spec
    label = next((c for c in labels if c in rows[0]), None)
    if label is None or y not in rows[0]:
        return None
    import plotly.graph_objects as go
    import plotly.io as pio

    rows = [r for r in rows if isinstance(r.get(y), int | float)][:40]
    if not rows:
        return None
    xs = [html.escape(_cell(r.get(label))) for r in rows]
    ys = [float(r[y]) for r in rows]
    err = None
    if (
        lo
        and hi
        and all(isinstance(r.get(lo), int | float) for r in rows)
        and all(isinstance(r.get(hi), int | float) for r in rows)
    ):
        err = {
            "type": "data",
            "symmetric": False,
            "array": [max(0.0, float(r[hi]) - v) for r, v in zip(rows, ys, strict=True)],
            "arrayminus": [max(0.0, v - float(r[lo])) for r, v in zip(rows, ys, strict=True)],
        }
    fig = go.Figure(go.Bar(x=xs, y=ys, error_y=err, marker_color="#3b6ea5"))
    fig.update_layout(
        title=html.escape(f"{name}: {title}" + (" (95 % interval)" if err else "")),
        height=320, margin={"l": 50, "r": 20, "t": 50, "b": 90}, xaxis={"type": "category"},
    )  # fmt: skip
    return str(pio.to_html(fig, full_html=False, include_plotlyjs=False,
                           config={"displaylogo": False, "responsive": True}))  # fmt: skip


def _table(rows: list[dict[str, Any]]) -> str:
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f3f7}.note{color:#8a5300}.meta td:first-child{font-weight:600}"""


def to_html(report: Mapping[str, Any], *, title: str = "communitok partner report") -> str:
    """A self-contained page: inline Plotly JS, charts with intervals, escaped tables."""
    try:
        import plotly.offline as po
    except ImportError as exc:  # pragma: no cover - plotly ships with the api extra
        raise InputError("HTML export needs plotly: pip install 'communitok[api]'",
                         field="format") from exc  # fmt: skip
    meta, sections = split(report)
    notes = meta.pop("notes", None) or []
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>",
        f"<script type='text/javascript'>{po.get_plotlyjs()}</script></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<table class='meta'>" + "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(_cell(v))}</td></tr>"
            for k, v in meta.items()
        ) + "</table>",
    ]  # fmt: skip
    for n in notes if isinstance(notes, list) else [notes]:
        parts.append(f"<p class='note'>{html.escape(str(n))}</p>")
    for name, rows in sections.items():
        parts.append(f"<h2>{html.escape(name)} <small>({len(rows)} rows)</small></h2>")
        if not rows:
            parts.append("<p>nothing to show (withheld under the privacy threshold or no data)</p>")
            continue
        chart = _chart(name, rows)
        if chart:
            parts.append(chart)
        parts.append(_table(rows))
    parts.append("</body></html>")
    return "".join(parts)


def render(report: Mapping[str, Any], fmt: str, *, title: str = "communitok partner report") -> str:
    """The report in *fmt* (``json``, ``csv`` or ``html``)."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    if fmt == "html":
        return to_html(report, title=title)
    raise InputError(f"format is one of {', '.join(FORMATS)}", field="format")
