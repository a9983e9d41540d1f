"""Small HTML building blocks shared by the summary and the per-shard sections."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from longweave.pipeline.report import svg as report_svg
from longweave.pipeline.report.stats import DEFINITIONS
from longweave.pipeline.report.svg import human


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    """A table; numbers are right-aligned and shown with `human` unless already strings."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            if isinstance(cell, bool) or cell is None or isinstance(cell, str):
                cells.append(f"<td>{escape('n/a' if cell is None else str(cell))}</td>")
            else:
                cells.append(f'<td class="num">{escape(fmt(cell))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(body) + "</tbody></table>")


def fmt(value: Any) -> str:
    """Integers with thousands separators, ratios with 4 significant digits."""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def definition(key: str) -> str:
    """The measure's definition, printed next to its chart."""
    return f'<p class="def"><b>{escape(key.replace("_", " "))}:</b> ' \
           f"{escape(DEFINITIONS[key])}</p>"


def figure(chart: str, caption: str = "") -> str:
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="fig">{chart}{cap}</figure>'


def distance_charts(blocks: dict[str, Any], what: str) -> str:
    """One log2 histogram per source of a distance distribution."""
    figs = []
    for source, block in sorted(blocks.items()):
        hist = block["histogram"]
        chart = report_svg.histogram(hist["edges"], hist["counts"],
                                     f"{source}: {what} (tokens, log2 bins)")
        shares = ", ".join(f">= {k}: {v:.3g}" for k, v in block["share_at_least"].items())
        figs.append(figure(chart, f"n={human(block['n'])}, mean={human(block['mean'])}, "
                                  f"share {shares}"))
    return "".join(figs) or "<p class='none'>No data.</p>"


def depth_charts(blocks: dict[str, Any]) -> str:
    figs = [figure(report_svg.histogram(b["histogram"]["edges"], b["histogram"]["counts"],
                                        f"{src}: depth (0 = start, 1 = end)", log_edges=False),
                   f"n={b['n']}")
            for src, b in sorted(blocks.items())]
    return "".join(figs) or "<p class='none'>No sample carries depth meta.</p>"


def shares_chart(block: dict[str, Any], label: str) -> str:
    rows = [(k, [v]) for k, v in block["share"].items()]
    return report_svg.hbars(rows, ["share"], label, max_value=1.0)


def quality_table(quality: dict[str, Any]) -> str:
    rows = []
    for source, signals in sorted(quality.items()):
        for name, s in sorted(signals.items()):
            pct = s.get("percentiles", {})
            rows.append([source, name, s["n"], s["mean"], pct.get("p10"), pct.get("p50"),
                         pct.get("p90"), s["min"], s["max"]])
    if not rows:
        return "<p class='none'>No document carries meta quality signals.</p>"
    return table(["source", "signal", "docs", "mean", "p10", "p50", "p90", "min", "max"], rows)


def entropy_table(entropy: dict[str, Any]) -> str:
    return table(["over", "bits", "normalized", "distinct", "coverage"],
                 [[k, v["bits"], v["normalized"], v["distinct"], v["coverage"]]
                  for k, v in entropy.items()])


def long_docs_table(block: dict[str, Any]) -> str:
    return table(["documents >=", "threshold", "tokens", "share of content tokens"],
                 [[k, v["threshold"], v["tokens"], v["share"]] for k, v in block.items()])


CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#23395b;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;opacity:.85}
main{padding:8px 24px 40px;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:16px 0;padding:8px 16px}
h2{font-size:18px;border-bottom:1px solid #eee;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid #e1e1e1;padding:3px 8px;text-align:left}
th{background:#f1f4f8} td.num{text-align:right;font-variant-numeric:tabular-nums}
.fig{display:inline-block;vertical-align:top;margin:4px 12px 8px 0}
figcaption{font-size:12px;color:#555;max-width:440px}
.def{font-size:12.5px;color:#444;background:#f6f8fb;border-left:3px solid #9bb3d1;
padding:4px 8px;max-width:900px}
.none{color:#888;font-style:italic}
.grid{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:flex-start}
details>summary{cursor:pointer;font-weight:600;font-size:16px;padding:4px 0}
nav a{margin-right:10px;font-size:13px}
.bad{color:#b0474f;font-weight:600} .ok{color:#4e9a5b;font-weight:600}
"""
