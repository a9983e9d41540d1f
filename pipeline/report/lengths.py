"""Counts, lengths, fill, splits, shares and quality signals of one shard (polars).

Vocabulary: a *row* is one packed sequence; a *segment* is one entry of a row's
`cu_seqlens` (a whole document or a piece of one; padding is a segment too but never
counted as content); a *document* is a `doc_id`, whose length is the sum of its pieces'
tokens over the whole output (the segment index), not just the pieces in this shard.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow.compute as pc

from longweave.pipeline.report.inputs import ShardSegments, parse_meta
from longweave.pipeline.report.numbers import log2_histogram, ratio, rnd, shares, summary
from longweave.schemas.meta import FILTER, QUALITY, numeric_signals, stage_keys

LONG_THRESHOLDS: dict[str, int] = {"32K": 32_768, "128K": 131_072, "512K": 524_288}
FILTER_SIGNAL_PREFIX = "filter_"  # the filter's chunk judgement, beside the reader's signals
FILTER_SCORE = FILTER_SIGNAL_PREFIX + "score"


def document_lengths(index: pl.DataFrame) -> pl.DataFrame:
    """doc_id -> doc_tokens, doc_chars: sums over every piece the segment index lists."""
    return index.group_by("doc_id").agg(
        pl.col("tokens").sum().alias("doc_tokens"), pl.col("chars").sum().alias("doc_chars"))


def content_segments(shard: ShardSegments, doc_lengths: pl.DataFrame) -> pl.DataFrame:
    """Non-pad segments with doc_id (the segment id when the index lacks it) and doc length."""
    content = shard.segments.filter(~pl.col("is_pad")).with_columns(
        pl.col("doc_id").fill_null(pl.col("segment_id")),
        pl.col("kind").fill_null("unknown"),
        pl.col("split").fill_null("unknown"),
    )
    content = content.join(doc_lengths, on="doc_id", how="left", maintain_order="left")
    return content.with_columns(pl.col("doc_tokens").fill_null(pl.col("tokens")))


def counts_and_fill(shard: ShardSegments, content: pl.DataFrame) -> dict[str, Any]:
    """Rows, tokens, segments, documents and how full the rows are.

    row fill = non-pad tokens / all tokens of the row (1.0 means no padding).
    """
    rows = shard.rows.num_rows
    # Row lengths from the list offsets: no token is copied into Python.
    total_tokens = int(pc.sum(pc.list_value_length(shard.rows.column("input_ids"))).as_py()) \
        if rows else 0
    pad = shard.segments.filter(pl.col("is_pad"))
    pad_tokens = int(pad["tokens"].sum()) if pad.height else 0
    per_row = (shard.segments.group_by("row")
               .agg(pl.col("tokens").filter(~pl.col("is_pad")).sum().alias("content"),
                    pl.col("tokens").sum().alias("all"))
               .sort("row"))
    fills = [c / a if a else 0.0 for c, a in zip(per_row["content"], per_row["all"], strict=True)]
    distinct = content["segment_id"].n_unique() if content.height else 0
    return {
        "rows": rows,
        "tokens": total_tokens,
        "content_tokens": total_tokens - pad_tokens,
        "pad_tokens": pad_tokens,
        "segments": content.height,
        "distinct_segments": distinct,
        "repeated_segments": content.height - distinct,
        "documents": content["doc_id"].n_unique() if content.height else 0,
        "padded_rows": pad["row"].n_unique() if pad.height else 0,
        "row_fill": {"mean": ratio(total_tokens - pad_tokens, total_tokens),
                     "distribution": summary(fills)},
        "missing_from_index": int(content["index_tokens"].is_null().sum()),
    }


def length_distributions(content: pl.DataFrame) -> dict[str, Any]:
    """Segment tokens, and document tokens/chars over the distinct documents of the shard."""
    docs = content.unique(subset="doc_id", keep="first", maintain_order=True)
    doc_chars = docs["doc_chars"].drop_nulls().to_list()
    return {
        "segment_tokens": {**summary(content["tokens"].to_list()),
                           "histogram": log2_histogram(content["tokens"].to_list())},
        "document_tokens": {**summary(docs["doc_tokens"].to_list()),
                            "histogram": log2_histogram(docs["doc_tokens"].to_list())},
        "document_chars": summary(doc_chars),
    }


def split_category(split: str) -> str:
    """'none' kept whole; 'span' split at a natural boundary; 'cut' truncated mid-unit."""
    if split.startswith("span"):
        return "span"
    return split if split in ("none", "cut") else "unknown"


def splits_and_truncations(content: pl.DataFrame) -> dict[str, Any]:
    """How documents were cut to fit buckets: segment counts per split kind, split documents."""
    with_cat = content.with_columns(
        pl.col("split").map_elements(split_category, return_dtype=pl.String).alias("category"))
    by_cat = dict(with_cat.group_by("category").agg(pl.len()).iter_rows())
    by_cat_tokens = dict(with_cat.group_by("category").agg(pl.col("tokens").sum()).iter_rows())
    docs = with_cat.group_by("doc_id").agg(
        pl.col("pieces").max().fill_null(1), (pl.col("category") == "cut").any().alias("cut"))
    return {
        "segments_by_split": {k: int(by_cat[k]) for k in sorted(by_cat)},
        "tokens_by_split": {k: int(by_cat_tokens[k]) for k in sorted(by_cat_tokens)},
        "split_documents": int((docs["pieces"] > 1).sum()) if docs.height else 0,
        "truncated_documents": int(docs["cut"].sum()) if docs.height else 0,
    }


def token_shares(content: pl.DataFrame, column: str) -> dict[str, Any]:
    """Content tokens and their share per value of `column` (source or kind)."""
    tokens = {str(k): int(v) for k, v in
              content.group_by(column).agg(pl.col("tokens").sum()).iter_rows()}
    return {"tokens": {k: tokens[k] for k in sorted(tokens)}, "share": shares(tokens)}


def long_document_shares(content: pl.DataFrame) -> dict[str, Any]:
    """Share of content tokens that belong to documents of at least 32K / 128K / 512K tokens.

    A document's length is the sum of all its pieces, so a 200K-token book split into
    64K rows still counts as long.
    """
    total = int(content["tokens"].sum()) if content.height else 0
    out: dict[str, Any] = {}
    for name, threshold in LONG_THRESHOLDS.items():
        long_tokens = int(content.filter(pl.col("doc_tokens") >= threshold)["tokens"].sum()) \
            if content.height else 0
        out[name] = {"threshold": threshold, "tokens": long_tokens, "share": ratio(long_tokens, total)}
    return out


def document_signals(meta: dict[str, Any]) -> dict[str, float]:
    """A document's numeric quality signals: the reader's own (`meta["quality"]`, e.g. a
    book's OCR signals) under their names, the filter's chunk judgement
    (`meta["filter"]["quality"]`) prefixed `filter_`."""
    judged = numeric_signals(stage_keys(meta, FILTER).get(QUALITY))
    return {**numeric_signals(meta.get(QUALITY)),
            **{FILTER_SIGNAL_PREFIX + name: value for name, value in judged.items()}}


def quality_signals(content: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per source, per numeric quality signal (`document_signals`): its distribution over
    documents."""
    docs = content.unique(subset="doc_id", keep="first", maintain_order=True)
    values: dict[str, dict[str, list[float]]] = {}
    for source, meta in docs.select("source", "meta").iter_rows():
        for name, value in document_signals(parse_meta(meta)).items():
            values.setdefault(source, {}).setdefault(name, []).append(value)
    return {src: {name: summary(vals) for name, vals in sorted(values[src].items())}
            for src in sorted(values)}


def quality_score(signals: dict[str, Any]) -> float | None:
    """One number per source for the triangle: the mean of the filter's chunk score if
    present, otherwise the mean of all signals whose values lie in [0, 1] (ratios), else None."""
    if FILTER_SCORE in signals:
        return signals[FILTER_SCORE]["mean"]
    unit = [s["mean"] for s in signals.values()
            if s["n"] and 0 <= s["min"] and s["max"] <= 1]
    return rnd(sum(unit) / len(unit)) if unit else None


DEFINITIONS: dict[str, str] = {
    "row_fill": "Non-pad tokens / all tokens of a row; 1.0 means the row carries no padding.",
    "document_tokens": (
        "A document's length is the sum of the tokens of all its pieces in the whole output "
        "(segment index), so a book split across rows or shards keeps its full length."),
    "long_documents": (
        "Share of content tokens that belong to documents of at least 32K (32768), 128K "
        "(131072) or 512K (524288) tokens."),
    "splits": (
        "none: document packed whole; span: split at a natural boundary (file, chapter, "
        "turn); cut: truncated inside a unit."),
    "quality_score": (
        "Triangle quality axis: mean of the filter's chunk score (quality signal "
        "'filter_score': share of text in chunks that pass the quality rules) when present, "
        "else mean of the quality signals whose values are ratios in [0, 1]."),
    "quality_signals": (
        "Per source, the distribution over documents of every numeric quality signal: the "
        "reader's own (meta quality, e.g. a book's OCR and line-shape signals) under their "
        "names, and the filter's chunk judgement (meta filter.quality) prefixed 'filter_'."),
}
