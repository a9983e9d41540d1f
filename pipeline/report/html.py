"""report.html: one self-contained page (inline CSS and SVG, no script, no network).

The page comes from the jinja2 templates in `templates/` (package data): `report.html.j2` holds
the run summary (totals, mixture, ledger waterfall, the quality / diversity / length triangle,
lengths, long-range dependency, diversity, quality), `shard.html.j2` one section per shard and
`blocks.html.j2` the tables and figures both share. Autoescaping is on, so every value from
the data (source names, shard paths, meta keys, drop reasons) is escaped; the charts are the
only markup passed through, and svg.py escapes the text it draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jinja2

from longweave.pipeline.report import svg as report_svg
from longweave.pipeline.report.stats import DEFINITIONS

PAGE_TEMPLATE = "report.html.j2"


def render_report(summary: dict[str, Any], shards: list[dict[str, Any]]) -> str:
    """The page for `summary.json` and the per-shard JSON (in shard order)."""
    return _environment().get_template(PAGE_TEMPLATE).render(summary=summary, shards=shards)


def shard_anchor(rel_path: str) -> str:
    """The id of a shard's section: its path with `/` and `.` (invalid in a fragment) as `-`."""
    return "shard-" + rel_path.replace("/", "-").replace(".", "-")


def fmt(value: Any) -> str:
    """Integers with thousands separators, ratios with 4 significant digits."""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def is_numeric(value: Any) -> bool:
    """Whether a table cell is a number (right-aligned, shown with `fmt`); bools are text."""
    return not (value is None or isinstance(value, (bool, str)))


def by_int_key(block: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    """Items in numeric key order: JSON keeps bucket lengths as strings, and "16" < "8"."""
    return sorted(block.items(), key=lambda kv: int(kv[0]))


@cache
def _environment() -> jinja2.Environment:
    """Built once per process. StrictUndefined makes a missing report key fail loudly rather
    than render as an empty cell."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("longweave.pipeline.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(fmt=fmt, human=report_svg.human, anchor=shard_anchor,
                       by_int_key=by_int_key)
    env.tests["numeric"] = is_numeric
    env.globals.update(definitions=DEFINITIONS, histogram=report_svg.histogram,
                       waterfall=report_svg.waterfall, triangle=report_svg.triangle,
                       shares_chart=report_svg.shares_chart,
                       mixture_chart=report_svg.mixture_chart)
    return env
