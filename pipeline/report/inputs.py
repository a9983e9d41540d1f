"""Reading a pack output (shards, segment index, manifest, tokenizer) for the report.

Everything goes through `longweave.schemas.fs`, so the same code reads a local folder on the
driver and a gs:// folder on a Beam worker.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Tokenizer

from longweave.schemas import fs, layout
from longweave.schemas.packed import PAD_DOC_ID, SEGMENT_INDEX_SCHEMA
from longweave.schemas.tokenizer_file import load_tokenizer


def read_segment_index(out_dir: str) -> pl.DataFrame:
    """All rows of `docs/part-*.parquet`; an empty frame with the schema when there are none."""
    tables = [pq.read_table(io.BytesIO(fs.read_bytes(path)))
              for path in fs.glob(fs.join(out_dir, layout.INDEX_DIR, "part-*.parquet"))]
    if not tables:
        return pl.from_arrow(SEGMENT_INDEX_SCHEMA.empty_table())
    table = pa.concat_tables([_with_index_columns(t).select(SEGMENT_INDEX_SCHEMA.names)
                              .cast(SEGMENT_INDEX_SCHEMA) for t in tables])
    # Copies of a segment share one index row; keep the first so joins do not fan out.
    return pl.from_arrow(table).unique(subset="segment_id", keep="first", maintain_order=True)


def _with_index_columns(table: pa.Table) -> pa.Table:
    """An index part with null columns for any column it predates (e.g. a piece's
    `token_start`/`token_end`), so an older output still reports, without those measures."""
    for name in SEGMENT_INDEX_SCHEMA.names:
        if name not in table.column_names:
            table = table.append_column(SEGMENT_INDEX_SCHEMA.field(name),
                                        pa.nulls(table.num_rows,
                                                 SEGMENT_INDEX_SCHEMA.field(name).type))
    return table


def output_tokenizer(out_dir: str) -> Tokenizer | None:
    """The run's tokenizer, or None when the output has none (the report then skips text)."""
    path = fs.join(out_dir, layout.TOKENIZER_FILE)
    return load_tokenizer(path) if fs.exists(path) else None


@dataclass
class ShardSegments:
    """A shard flattened to one row per packed segment, joined to the segment index.

    `segments` columns: row, position (segment number in its row), segment_id, source,
    start, end, tokens, is_pad, and from the index doc_id, kind, split, piece, pieces,
    token_start, token_end, chars, meta (nulls when the index lacks the segment).
    `rows` keeps the token arrays so diversity and dependency measures can slice them.
    """

    rel_path: str
    bucket: int
    rows: pa.Table
    segments: pl.DataFrame


def flatten_shard(rel_path: str, table: pa.Table, index: pl.DataFrame) -> ShardSegments:
    """Turn rows of (cu_seqlens, doc_ids, doc_sources) into one frame row per segment."""
    frame = pl.from_arrow(table.select(["cu_seqlens", "doc_ids", "doc_sources", "bucket"]))
    bucket = int(frame["bucket"][0]) if frame.height else _bucket_from_path(rel_path)
    frame = frame.with_row_index("row").with_columns(
        pl.col("cu_seqlens").list.slice(0, pl.col("cu_seqlens").list.len() - 1).alias("start"),
        pl.col("cu_seqlens").list.slice(1).alias("end"),
    )
    segments = (
        frame.select("row", "start", "end", pl.col("doc_ids").alias("segment_id"),
                     pl.col("doc_sources").alias("source"))
        .with_columns(pl.int_ranges(0, pl.col("segment_id").list.len()).alias("position"))
        .explode(["start", "end", "segment_id", "source", "position"])
        .drop_nulls("segment_id")
        .with_columns(
            pl.col("row").cast(pl.Int64), pl.col("position").cast(pl.Int64),
            (pl.col("end") - pl.col("start")).cast(pl.Int64).alias("tokens"),
            (pl.col("segment_id") == PAD_DOC_ID).alias("is_pad"),
        )
    )
    wanted = index.select("segment_id", "doc_id", "kind", "split", "piece", "pieces", "chars",
                          "token_start", "token_end", pl.col("tokens").alias("index_tokens"),
                          "meta")
    segments = segments.join(wanted, on="segment_id", how="left", maintain_order="left")
    return ShardSegments(rel_path=rel_path, bucket=bucket, rows=table, segments=segments)


def _bucket_from_path(rel_path: str) -> int:
    head = rel_path.split("/")[0]
    return int(head) if head.isdigit() else 0


def parse_meta(text: str | None) -> dict[str, Any]:
    """A segment's meta JSON as a dict; unreadable or missing meta is an empty dict."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
