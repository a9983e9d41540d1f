"""Inline SVG charts for report.html, drawn in Python so the page needs no network or JS.

Every chart is `Markup`: the templates insert it unescaped, which is safe because every text
drawn here (labels, tooltips, aria-label - source names included) goes through `escape`. Data
marks carry `class="mark"` and a `<title>` tooltip so a reader can hover for the exact value
and a test can count them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

PALETTE = ("#3b6ea5", "#d1793b", "#4e9a5b", "#b0474f", "#7b5ea7", "#8c6d46", "#c45a9c",
           "#6b7b8c")
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def human(value: float | None) -> str:
    """12345 -> 12.3K; keeps small numbers and ratios readable."""
    if value is None:
        return "n/a"
    value = float(value)
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}" if not value.is_integer() else str(int(value))


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    """The one place a chart becomes Markup; `body` holds only escaped text."""
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
                  f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="{escape(label)}">' + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} {extra}>'
            f"{escape(text)}</text>")


def _rect(x: float, y: float, w: float, h: float, color: str, tip: str) -> str:
    return (f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" '
            f'height="{max(h, 0.0):.1f}" fill="{color}"><title>{escape(tip)}</title></rect>')


def empty_chart(label: str, width: int = 420, height: int = 60) -> Markup:
    return _svg(width, height, [_text(width / 2, height / 2, f"no data: {label}", "middle",
                                      'fill="#888"')], label)


def histogram(edges: Sequence[float], counts: Sequence[float], label: str,
              log_edges: bool = True, width: int = 420, height: int = 170) -> Markup:
    """Vertical bars, one per bin; bins labelled by their lower edge."""
    if not counts or not any(counts):
        return empty_chart(label, width)
    left, bottom, top = 40, 34, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(counts)
    bar_w = plot_w / len(counts)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
            'stroke="#999"/>', _text(left - 4, top + 8, human(peak), "end")]
    step = max(1, math.ceil(len(counts) / 8))
    for i, (edge, count) in enumerate(zip(edges, counts, strict=True)):
        h = plot_h * count / peak
        x = left + i * bar_w
        upper = (edges[i + 1] if i + 1 < len(edges)
                 else (edge * 2 if log_edges and edge else None))
        span = f"[{human(edge)}, {human(upper)})" if upper is not None else f">= {human(edge)}"
        body.append(_rect(x + 1, top + plot_h - h, bar_w - 2, h, PALETTE[0],
                          f"{span}: {human(count)}"))
        if i % step == 0:
            body.append(_text(x + bar_w / 2, top + plot_h + 13, human(edge), "middle"))
    body.append(_text(left + plot_w / 2, height - 4, label, "middle", 'fill="#555"'))
    return _svg(width, height, body, label)


def hbars(rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[str], label: str,
          max_value: float | None = None, width: int = 460,
          fmt: Callable[[float | None], str] = human) -> Markup:
    """Horizontal bars, one group per row and one bar per series (e.g. target vs actual)."""
    values = [v for _, vals in rows for v in vals if v is not None]
    if not values or not any(values):
        return empty_chart(label, width)
    peak = max_value or max(values)
    label_w, bar_h = 130, 12
    group_h = bar_h * len(series) + 8
    legend_h = 16 if len(series) > 1 else 0
    height = legend_h + group_h * len(rows) + 22
    plot_w = width - label_w - 60
    body: list[str] = []
    for j, name in enumerate(series if len(series) > 1 else []):
        body.append(_rect(label_w + j * 110, 3, 10, 10, PALETTE[j], name))
        body.append(_text(label_w + j * 110 + 14, 12, name))
    for i, (row_label, vals) in enumerate(rows):
        y0 = legend_h + i * group_h
        body.append(_text(label_w - 6, y0 + group_h / 2 + 3, row_label[:22], "end"))
        for j, value in enumerate(vals):
            w = plot_w * (value or 0) / peak
            y = y0 + 4 + j * bar_h
            body.append(_rect(label_w, y, w, bar_h - 2, PALETTE[j % len(PALETTE)],
                              f"{row_label} {series[j]}: {fmt(value)}"))
            body.append(_text(label_w + w + 4, y + bar_h - 3, fmt(value)))
    body.append(_text(label_w + plot_w / 2, height - 4, label, "middle", 'fill="#555"'))
    return _svg(width, height, body, label)


def shares_chart(block: dict[str, Any], label: str) -> Markup:
    """A report `shares` block ({"share": {name: share}}) as bars on a fixed 0-1 scale."""
    return hbars([(name, [share]) for name, share in block["share"].items()], ["share"], label,
                 max_value=1.0)


def mixture_chart(sources: dict[str, dict[str, Any]], label: str) -> Markup:
    """Target vs actual token share per source, scaled to the largest of either."""
    rows = [(source, [v["target"], v["actual"]]) for source, v in sources.items()]
    return hbars(rows, ["target", "actual"], label,
                 max_value=max([1e-9, *(x for _, vals in rows for x in vals)]))


def waterfall(steps: Sequence[dict], label: str, width: int = 640) -> Markup:
    """Floating bars: totals (stage in/out) from zero, drops hanging down, creations up."""
    if not steps:
        return empty_chart(label, width)
    label_w, bar_h = 220, 16
    height = len(steps) * (bar_h + 4) + 26
    peak = max(max(s["level"], s["level"] - s["delta"]) for s in steps) or 1
    plot_w = width - label_w - 60
    body: list[str] = []
    for i, step in enumerate(steps):
        y = 4 + i * (bar_h + 4)
        total = step["delta"] == 0 or step["label"].endswith(" in")
        if total:
            lo, hi, color = 0, step["level"], PALETTE[0]
        else:
            before = step["level"] - step["delta"]
            lo, hi = sorted((before, step["level"]))
            color = PALETTE[3] if step["delta"] < 0 else PALETTE[2]
        x = label_w + plot_w * lo / peak
        w = plot_w * (hi - lo) / peak
        shown = step["level"] if total else f"{step['delta']:+d}"
        body.append(_text(label_w - 6, y + bar_h - 4, step["label"][:36], "end"))
        body.append(_rect(x, y, w, bar_h, color, f"{step['label']}: {shown}"))
        body.append(_text(x + w + 4, y + bar_h - 4, str(shown)))
    body.append(_text(label_w + plot_w / 2, height - 4, label, "middle", 'fill="#555"'))
    return _svg(width, height, body, label)


def triangle(rows: dict[str, dict], label: str, size: int = 300) -> Markup:
    """One polygon per source on three 0-1 axes: quality (top), diversity, length.

    A missing corner (no quality signal in meta) is drawn at 0 and said in the tooltip.
    """
    if not rows:
        return empty_chart(label, size)
    cx, cy, radius = size / 2, size / 2 + 8, size / 2 - 46
    axes = ("quality", "diversity", "length")
    angles = [-math.pi / 2, math.pi / 6, 5 * math.pi / 6]

    def point(axis: int, value: float) -> tuple[float, float]:
        return (cx + radius * value * math.cos(angles[axis]),
                cy + radius * value * math.sin(angles[axis]))

    body: list[str] = []
    for level in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(a, level) for a in range(3)))
        body.append(f'<polygon points="{pts}" fill="none" stroke="#ddd"/>')
    for a, name in enumerate(axes):
        x, y = point(a, 1.12)
        body.append(_text(x, y + 4, name, "middle", 'font-weight="bold"'))
    for i, (source, row) in enumerate(sorted(rows.items())):
        color = PALETTE[i % len(PALETTE)]
        values = [row.get(a) for a in axes]
        pts = [point(a, v or 0.0) for a, v in enumerate(values)]
        tip = f"{source}: " + ", ".join(f"{a} {human(v)}" for a, v in zip(axes, values,
                                                                           strict=True))
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + " Z"
        body.append(f'<path class="mark" d="{d}" fill="{color}" fill-opacity="0.18" '
                    f'stroke="{color}" stroke-width="2"><title>{escape(tip)}</title></path>')
        body.append(_rect(6, 6 + i * 14, 10, 10, color, source))
        body.append(_text(20, 15 + i * 14, source))
    return _svg(size, size + 16, body, label)
