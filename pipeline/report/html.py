"""report.html: one self-contained page (inline CSS and SVG, no script, no network).

The run summary comes first (totals, mixture, ledger waterfall, the quality / diversity /
length triangle, lengths, long-range dependency, diversity, quality), then one section
per shard.
"""

from __future__ import annotations

from html import escape
from typing import Any

from longweave.pipeline.report import svg as report_svg
from longweave.pipeline.report.html_parts import (
    CSS,
    definition,
    depth_charts,
    distance_charts,
    entropy_table,
    figure,
    long_docs_table,
    quality_table,
    shares_chart,
    table,
)
from longweave.pipeline.report.html_shard import render_shard, shard_anchor


def render_report(summary: dict[str, Any], shards: list[dict[str, Any]]) -> str:
    run = summary["run"]
    title = f"longweave report: {run.get('recipe_name') or 'output'}"
    nav = "".join(f'<a href="#{shard_anchor(s["shard"])}">{escape(s["shard"])}</a>'
                  for s in summary["shards"])
    return "".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1><p>recipe {escape(str(run.get('recipe_hash')))} "
        f"· tokenizer {escape(str(run.get('tokenizer_hash')))} · buckets "
        f"{escape(', '.join(str(b) for b in run.get('buckets') or []))}</p></header><main>",
        _totals(summary), _mixture(summary), _ledger(summary), _triangle(summary),
        _lengths(summary), _dependency(summary), _diversity(summary),
        "<section id='quality'><h2>Quality signals per source</h2>",
        quality_table(summary["quality"]), "</section>",
        f"<section id='shards'><h2>Shards</h2><nav>{nav}</nav>", _shard_table(summary),
        "</section>",
        *[render_shard(s) for s in shards],
        "</main></body></html>\n",
    ])


def _totals(summary: dict[str, Any]) -> str:
    t = summary["totals"]
    buckets = [[b, v["shards"], v["rows"], v["tokens"], v["row_fill"]]
               for b, v in sorted(t["by_bucket"].items(), key=lambda kv: int(kv[0]))]
    return "".join([
        "<section id='summary'><h2>Run summary</h2>",
        table(["shards", "rows", "tokens", "content tokens", "pad tokens", "row fill",
               "segments", "documents"],
              [[t["shards"], t["rows"], t["tokens"], t["content_tokens"], t["pad_tokens"],
                t["row_fill"], t["segments"], t["documents"]]]),
        table(["bucket", "shards", "rows", "tokens", "row fill"], buckets),
        "<div class='grid'>",
        figure(shares_chart(summary["shares"]["source"], "token share by source")),
        figure(shares_chart(summary["shares"]["kind"], "token share by kind")),
        "</div></section>",
    ])


def _mixture(summary: dict[str, Any]) -> str:
    sources = summary["mixture"]["sources"]
    if not sources:
        return ("<section id='mixture'><h2>Mixture</h2><p class='none'>The manifest has no "
                "mixture.</p></section>")
    rows = [(src, [v["target"], v["actual"]]) for src, v in sources.items()]
    chart = report_svg.hbars(rows, ["target", "actual"], "token share: target vs actual",
                             max_value=max(1e-9, *[x for _, vals in rows for x in vals]))
    accounting = [[src, v["target"], v["actual"], v["difference"], v.get("available_tokens"),
                   v.get("target_tokens"), v.get("packed_tokens")] for src, v in sources.items()]
    by_bucket = [[b, *[f"{k} {share:.3g}" for k, share in v.items()]]
                 for b, v in sorted(summary["mixture"]["by_bucket_share"].items(),
                                    key=lambda kv: int(kv[0]))]
    width = max((len(r) for r in by_bucket), default=1)
    return "".join([
        "<section id='mixture'><h2>Mixture: target vs actual</h2>", figure(chart),
        table(["source", "target share", "actual share", "actual - target",
               "available tokens", "target tokens", "packed tokens"], accounting),
        "<h3>Share by bucket</h3>",
        table(["bucket", *["source share"] * (width - 1)],
              [r + [""] * (width - len(r)) for r in by_bucket]) if by_bucket else "",
        "</section>",
    ])


def _ledger(summary: dict[str, Any]) -> str:
    ledger = summary["ledger"]
    if not ledger["steps"]:
        return ("<section id='ledger'><h2>Ledger</h2><p class='none'>The manifest has no "
                "ledgers.</p></section>")
    status = ("<span class='ok'>every stage balanced (in + created = out + dropped)</span>"
              if ledger["balanced"] else "<span class='bad'>a stage is unbalanced</span>")
    rows = [[name, s["in"], s.get("created", 0), s["out"], sum(s["dropped"].values()),
             ", ".join(f"{k}: {v}" for k, v in s["dropped"].items()) or "-",
             "yes" if s.get("balanced", True) else "NO"]
            for name, s in ledger["stages"].items()]
    return "".join([
        "<section id='ledger'><h2>Ledger waterfall</h2>", f"<p>{status}</p>",
        figure(report_svg.waterfall(ledger["steps"], "records from collect to pack")),
        "<p class='def'><b>waterfall:</b> documents entering collect, then every stage's drops "
        "by reason (red) and synthetic creations (green); blue bars are the records a stage "
        "passed on.</p>",
        table(["stage", "in", "created", "out", "dropped", "by reason", "balanced"], rows),
        "</section>",
    ])


def _triangle(summary: dict[str, Any]) -> str:
    tri = summary["triangle"]
    rows = [[src, v["tokens"], v["quality"], v["diversity"], v["length"],
             v["dependency_tokens"], v["dependency_basis"]] for src, v in tri.items()]
    return "".join([
        "<section id='triangle'><h2>Quality, diversity, length per source</h2>",
        figure(report_svg.triangle(tri, "quality / diversity / length triangle")),
        table(["source", "tokens", "quality", "diversity (distinct 4-grams)",
               "length (share >= 32K)", "dependency (tokens)", "dependency basis"], rows),
        definition("quality_score"),
        "<p class='def'><b>triangle:</b> diversity is the distinct 4-gram ratio, length the "
        "share of the source's tokens in documents of at least 32K tokens, dependency the "
        "median meta dependency distance or else the mean of per-shard median re-mention "
        "gaps.</p></section>",
    ])


def _lengths(summary: dict[str, Any]) -> str:
    length = summary["length"]
    hist = length["document_tokens"]["histogram"]
    return "".join([
        "<section id='lengths'><h2>Lengths</h2>",
        figure(report_svg.histogram(hist["edges"], hist["counts"],
                                    "document length over the output (tokens, log2 bins)")),
        definition("document_tokens"),
        long_docs_table(length["long_documents"]), definition("long_documents"),
        "</section>",
    ])


def _dependency(summary: dict[str, Any]) -> str:
    length = summary["length"]
    return "".join([
        "<section id='dependency'><h2>Long-range dependency</h2>",
        "<h3>Dependency distance (meta)</h3>", definition("dependency_distance"),
        "<div class='grid'>",
        distance_charts(length["dependency_distance"], "dependency distance"), "</div>",
        "<h3>Rare-term re-mention distance</h3>", definition("remention_distance"),
        "<div class='grid'>", distance_charts(length["remention_distance"], "re-mention gap"),
        "</div><h3>Depth coverage</h3>", definition("depth_coverage"),
        "<div class='grid'>", depth_charts(length["depth_coverage"]), "</div></section>",
    ])


def _diversity(summary: dict[str, Any]) -> str:
    div = summary["diversity"]
    near = div["near_duplicates"]
    return "".join([
        "<section id='diversity'><h2>Diversity</h2>",
        table(["distinct 1-grams", "2-grams", "3-grams", "4-grams", "compression",
               "near-dup inside shards", "near-dup across shards"],
              [[*[div["distinct_ngrams"].get(n) for n in ("1", "2", "3", "4")],
                div["compression"]["ratio"], near["inside_shard"]["rate"],
                near["across_shards"]["rate"]]]),
        definition("distinct_ngrams"), definition("compression"),
        definition("near_duplicates"), entropy_table(div["entropy"]), definition("entropy"),
        "</section>",
    ])


def _shard_table(summary: dict[str, Any]) -> str:
    return table(["shard", "bucket", "rows", "tokens", "row fill", "json"],
                 [[s["shard"], s["bucket"], s["rows"], s["tokens"], s["row_fill"], s["report"]]
                  for s in summary["shards"]])
