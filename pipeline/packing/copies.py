"""The pack stage's decisions, one segment or one group at a time: how many copies of a
segment the mixture plan takes and which packing group each copy joins, the rows a group
packs into, which shard a row goes to, and a shard's row order.

Every choice is a seeded hash of ids, never of arrival order, so the shards are the same
bytes whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from longweave.pipeline.packing.bestfit import PackOptions, iter_packed_rows, row_key, shuffle_rank
from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.segments import Segment
from longweave.pipeline.packing.shards import write_shard
from longweave.schemas.ledger import Drop
from longweave.schemas.packed import PackedSequence
from longweave.schemas.recipe_pack import OutputConfig
from longweave.schemas.seeded import seeded_int

GroupKey = tuple[int, int]  # (bucket, packing group)
ShardKey = tuple[int, int]  # (bucket, shard index)


@dataclass
class Assignment:
    """What the plan makes of one segment that it keeps."""

    index_row: dict  # its line in the segment index (`docs/`)
    packed: tuple[tuple[str, int], int]  # ((source, bucket), tokens packed)
    copies: list[tuple[GroupKey, tuple[Segment, int]]]  # one (group, (segment, copy)) each


def assign_copies(segment: Segment, plan: MixturePlan) -> Assignment | Drop:
    """The segment's copies and their packing groups, or a sampled-out drop."""
    key = (segment.segment_id, segment.source, segment.bucket, segment.tokens)
    copies = plan.copies(*key)
    if copies == 0:
        return Drop(segment.segment_id, segment.source, plan.drop_reason(*key),
                    f"bucket {segment.bucket}, {segment.tokens} tokens")
    groups = plan.groups[segment.bucket]
    return Assignment(
        index_row=index_row(segment, copies),
        packed=((segment.source, segment.bucket), segment.tokens * copies),
        copies=[((segment.bucket,
                  seeded_int(plan.seed, f"group:{segment.segment_id}@{copy}") % groups),
                 (segment, copy)) for copy in range(copies)])


def index_row(segment: Segment, copies: int) -> dict:
    """The segment's line in `docs/` (SEGMENT_INDEX_SCHEMA)."""
    return {"segment_id": segment.segment_id, "doc_id": segment.doc_id,
            "source": segment.source, "kind": segment.kind, "bucket": segment.bucket,
            "tokens": segment.tokens, "chars": segment.chars, "piece": segment.piece,
            "pieces": segment.pieces, "split": segment.split, "copies": copies,
            "meta": segment.meta}


def pack_group(bucket: int, members: Iterable[tuple[Segment, int]], pad_id: int,
               output: OutputConfig) -> Iterator[PackedSequence]:
    """The rows one packing group's segment copies make (best-fit decreasing)."""
    return iter_packed_rows(list(members), PackOptions(
        bucket, pad_id, output.loss_mask, output.position_ids))


def shard_of(row: PackedSequence, plan: MixturePlan) -> tuple[ShardKey, PackedSequence]:
    index = seeded_int(plan.seed, "shard:" + row_key(row)) % plan.shards[row.bucket]
    return ((row.bucket, index), row)


def order_shard_rows(rows: list[PackedSequence], seed: int, shuffle: bool
                     ) -> list[PackedSequence]:
    """Rows of one shard in their final order: seeded shuffle, or by content when off."""
    if shuffle:
        return sorted(rows, key=lambda r: (shuffle_rank(seed, r), row_key(r)))
    return sorted(rows, key=row_key)


def write_shard_rows(shard: ShardKey, rows: Iterable[PackedSequence], out_dir: str,
                     output: OutputConfig, seed: int) -> dict:
    """Order one shard's rows and write the file; its manifest entry as a dict."""
    bucket, index = shard
    ordered = order_shard_rows(list(rows), seed, output.shuffle)
    return asdict(write_shard(out_dir, bucket, index, ordered, output.loss_mask,
                              output.position_ids, output.compression))
