"""One `<section>` of report.html per shard: counts, lengths, shares, diversity, real length."""

from __future__ import annotations

from html import escape
from typing import Any

from longweave.pipeline.report import svg as report_svg
from longweave.pipeline.report.html_parts import (
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


def shard_anchor(rel_path: str) -> str:
    return "shard-" + rel_path.replace("/", "-").replace(".", "-")


def render_shard(stats: dict[str, Any]) -> str:
    """The section for one shard's JSON (see longweave.pipeline.report.stats.compute_shard_stats)."""
    counts, lengths, div = stats["counts"], stats["lengths"], stats["diversity"]
    seg_hist, doc_hist = lengths["segment_tokens"]["histogram"], \
        lengths["document_tokens"]["histogram"]
    near = div["near_duplicates"]
    parts = [
        f'<section id="{shard_anchor(stats["shard"])}"><details open>'
        f'<summary>Shard {escape(stats["shard"])} (bucket {stats["bucket"]})</summary>',
        "<h3>Counts</h3>",
        table(["rows", "tokens", "content tokens", "pad tokens", "row fill", "segments",
               "distinct segments", "repeated (up-sampled)", "documents", "not in index"],
              [[counts["rows"], counts["tokens"], counts["content_tokens"],
                counts["pad_tokens"], counts["row_fill"]["mean"], counts["segments"],
                counts["distinct_segments"], counts["repeated_segments"],
                counts["documents"], counts["missing_from_index"]]]),
        definition("row_fill"),
        "<h3>Lengths</h3><div class='grid'>",
        figure(report_svg.histogram(seg_hist["edges"], seg_hist["counts"],
                                    "segment length (tokens, log2 bins)")),
        figure(report_svg.histogram(doc_hist["edges"], doc_hist["counts"],
                                    "document length (tokens, log2 bins)")),
        "</div>",
        _percentile_table({"segment tokens": lengths["segment_tokens"],
                           "document tokens": lengths["document_tokens"],
                           "document chars": lengths["document_chars"]}),
        definition("document_tokens"),
        "<h3>Splits and truncations</h3>",
        table(["split", "segments", "tokens"],
              [[k, v, stats["splits"]["tokens_by_split"].get(k, 0)]
               for k, v in stats["splits"]["segments_by_split"].items()]
              + [["documents split", stats["splits"]["split_documents"], None],
                 ["documents truncated", stats["splits"]["truncated_documents"], None]]),
        definition("splits"),
        "<h3>Shares</h3><div class='grid'>",
        figure(shares_chart(stats["shares"]["source"], "token share by source")),
        figure(shares_chart(stats["shares"]["kind"], "token share by kind")),
        "</div>",
        "<h3>Quality signals</h3>", quality_table(stats["quality"]),
        "<h3>Diversity</h3>",
        table(["sample rows", "sample tokens", "distinct 1-grams", "2-grams", "3-grams",
               "4-grams", "compression", "near-dup inside", "near-dup across"],
              [[div["sample"]["rows"], div["sample"]["tokens"],
                *[div["distinct_ngrams"][n] for n in ("1", "2", "3", "4")],
                div["compression"]["ratio"], near["inside_shard"]["rate"],
                near["across_shards"]["rate"]]]),
        definition("distinct_ngrams"), definition("compression"), definition("near_duplicates"),
        entropy_table(div["entropy"]), definition("entropy"),
        "<h3>Real length</h3>", long_docs_table(stats["length"]["long_documents"]),
        definition("long_documents"),
        "<h4>Dependency distance (meta)</h4>", definition("dependency_distance"),
        "<div class='grid'>",
        distance_charts(stats["length"]["dependency_distance"], "dependency distance"),
        "</div><h4>Rare-term re-mention distance</h4>", definition("remention_distance"),
        "<div class='grid'>",
        distance_charts(stats["length"]["remention_distance"], "re-mention gap"),
        "</div><h4>Depth coverage</h4>", definition("depth_coverage"),
        "<div class='grid'>", depth_charts(stats["length"]["depth_coverage"]), "</div>",
        "</details></section>",
    ]
    return "".join(parts)


def _percentile_table(blocks: dict[str, dict[str, Any]]) -> str:
    keys = ("p0", "p10", "p50", "p90", "p99", "p100")
    return table(["measure", "n", "mean", "std", *keys],
                 [[name, b["n"], b["mean"], b["std"],
                   *[b["percentiles"].get(k) for k in keys]] for name, b in blocks.items()])
