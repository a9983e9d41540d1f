"""`PackedSequence` (one row of an output shard), its Arrow schema, and the shard manifest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from longweave.schemas import fs, layout


@dataclass
class PackedSequence:
    """One training row: exactly `bucket` tokens, documents separated by `cu_seqlens`.

    `cu_seqlens` follows the FlashAttention varlen convention: it starts with 0, ends with
    the row length, and segment i spans `input_ids[cu_seqlens[i]:cu_seqlens[i+1]]`. The last
    segment may be padding, named by the doc id `PAD_DOC_ID`.
    `loss_mask` is 1 where a token counts in the loss (0 inside `loss:off` spans and padding).
    """

    input_ids: Sequence[int]  # an int32 numpy array while packing, a list once read back
    cu_seqlens: list[int]
    doc_ids: list[str]
    doc_sources: list[str]
    bucket: int
    loss_mask: Sequence[int] | None = None
    position_ids: Sequence[int] | None = None

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


PAD_DOC_ID = "<pad>"
PAD_SOURCE = "<pad>"


def packed_schema(loss_mask: bool, position_ids: bool) -> pa.Schema:
    """The shard schema; optional columns are present only when the recipe asks for them."""
    fields = [
        ("input_ids", pa.list_(pa.int32())),
        ("cu_seqlens", pa.list_(pa.int32())),
        ("doc_ids", pa.list_(pa.string())),
        ("doc_sources", pa.list_(pa.string())),
        ("bucket", pa.int32()),
    ]
    if loss_mask:
        fields.append(("loss_mask", pa.list_(pa.int8())))
    if position_ids:
        fields.append(("position_ids", pa.list_(pa.int32())))
    return pa.schema(fields)


@dataclass
class ShardEntry:
    """One shard file as the manifest lists it."""

    path: str  # relative to the output folder: <bucket>/shard-00000.arrow
    bucket: int
    rows: int
    tokens: int
    bytes: int
    sha256: str
    segments: int = 0
    pad_tokens: int = 0


@dataclass
class Manifest:
    """What a pack run wrote, and what it was made from: the one model every reader of an
    output folder's `manifest.json` goes through."""

    recipe_name: str
    recipe_hash: str
    tokenizer_hash: str
    buckets: list[int]
    shards: list[ShardEntry] = field(default_factory=list)
    mixture: dict[str, Any] = field(default_factory=dict)
    recipe: dict[str, Any] = field(default_factory=dict)
    # every stage's ledger up to pack, and the stages in flow order (JSON keys are sorted)
    ledgers: dict[str, Any] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {"rows": sum(s.rows for s in self.shards),
                "tokens": sum(s.tokens for s in self.shards),
                "bytes": sum(s.bytes for s in self.shards),
                "shards": len(self.shards)}

    def ordered_ledgers(self) -> list[tuple[str, dict[str, Any]]]:
        """(stage, ledger) in flow order."""
        order = self.stages or sorted(self.ledgers)
        return [(stage, self.ledgers[stage]) for stage in order if stage in self.ledgers]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["totals"] = self.totals
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            recipe_name=data["recipe_name"], recipe_hash=data["recipe_hash"],
            tokenizer_hash=data["tokenizer_hash"], buckets=list(data["buckets"]),
            shards=[ShardEntry(**s) for s in data["shards"]],
            mixture=dict(data.get("mixture", {})), recipe=dict(data.get("recipe", {})),
            ledgers=dict(data.get("ledgers", {})), stages=list(data.get("stages", [])),
        )

    def write(self, out_dir: str) -> None:
        text = json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"
        fs.write_bytes(fs.join(out_dir, layout.MANIFEST_FILE), text.encode("utf-8"))

    @classmethod
    def read(cls, out_dir: str) -> Manifest:
        """The manifest of an output folder (local or remote)."""
        return cls.from_json(fs.read_json(fs.join(out_dir, layout.MANIFEST_FILE)))

    @staticmethod
    def exists(out_dir: str) -> bool:
        return fs.exists(fs.join(out_dir, layout.MANIFEST_FILE))


# One row per packed segment (a document, or a piece of a split one), written by the pack
# stage as <out>/docs/part-*.parquet so the report can join shard rows to document meta.
SEGMENT_INDEX_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),   # doc_id, or doc_id#<piece> for a split document
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("bucket", pa.int32()),
        ("tokens", pa.int64()),        # tokens of this segment, BOS/EOS included
        ("chars", pa.int64()),
        ("piece", pa.int32()),         # 0-based piece number
        ("pieces", pa.int32()),        # how many pieces the document was split into
        ("token_start", pa.int64()),   # the piece is tokens [token_start, token_end) of its
        ("token_end", pa.int64()),     # document (BOS/EOS not counted): the report's row test
        ("split", pa.string()),        # "none", "span:<prefix>" (at a natural boundary), "cut"
        ("copies", pa.int32()),        # times the segment was packed (mixture up-sampling)
        ("meta", pa.large_string()),   # the document's meta JSON
    ]
)


# The tokenize step's output (an internal hand-off inside the pack stage): one row per
# segment, already split to fit the largest bucket and assigned to its bucket.
TOKENIZED_SEGMENT_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("bucket", pa.int32()),
        ("input_ids", pa.list_(pa.int32())),
        ("loss_mask", pa.list_(pa.int8())),  # empty list: every token counts
        ("tokens", pa.int64()),
        ("chars", pa.int64()),
        ("piece", pa.int32()),
        ("pieces", pa.int32()),
        ("token_start", pa.int64()),
        ("token_end", pa.int64()),
        ("split", pa.string()),
        ("meta", pa.large_string()),
    ]
)
