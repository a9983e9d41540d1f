"""The pack stage's decisions, one segment or one group at a time: how many copies of a
segment the mixture plan takes and which packing group each copy joins, the rows a group
packs into, which shard a group's rows go to, and a shard's row order.

Every choice is a seeded hash of ids, never of arrival order, so the shards are the same
bytes whatever the number of workers.

Up-sampled copies are spread apart: each group feeds one shard (group % shards), and the
copies of a segment take groups `stride` apart from a hashed base, so they land in
distinct shards while there are as many shards as copies, else in distinct groups while
there are as many groups; inside a group best-fit never puts two copies in one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from longweave.pipeline.packing.bestfit import (
    Member,
    PackOptions,
    iter_packed_rows,
    row_key,
    shuffle_rank,
)
from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.segments import Segment
from longweave.pipeline.packing.shards import write_shard
from longweave.schemas.ledger import Drop
from longweave.schemas.packed import PackedSequence
from longweave.schemas.recipe_pack import OutputConfig
from longweave.schemas.seeded import seeded_int

GroupKey = tuple[int, int]  # (bucket, packing group)
ShardKey = tuple[int, int]  # (bucket, shard index)
KeyedRow = tuple[str, PackedSequence]  # (copy key, row)


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
    groups = copy_groups(segment.segment_id, copies, plan, segment.bucket)
    return Assignment(
        index_row=index_row(segment, copies),
        packed=((segment.source, segment.bucket), segment.tokens * copies),
        copies=[((segment.bucket, group), (segment, copy)) for copy, group in enumerate(groups)])


def packing_groups(plan: MixturePlan, bucket: int) -> int:
    """The bucket's group count, rounded up to a multiple of its shards so that every shard
    is fed by the same number of groups (a group's rows all go to shard group % shards)."""
    shards = plan.shards[bucket]
    return shards * -(-plan.groups[bucket] // shards)


def copy_groups(segment_id: str, copies: int, plan: MixturePlan, bucket: int) -> list[int]:
    """Each copy's group: (base + copy * stride) % groups, base a seeded hash of the id.

    stride = shards // copies (at least 1) puts the copies as many shards apart as the shard
    count allows; no two copies share a shard while copies <= shards, nor a group while
    copies <= groups.
    """
    return spread_groups(plan.seed, segment_id, copies, packing_groups(plan, bucket),
                         plan.shards[bucket])


def spread_groups(seed: int, segment_id: str, copies: int, groups: int, shards: int
                  ) -> list[int]:
    """`copy_groups` for explicit group and shard counts (benchmarks plan without a recipe)."""
    base = seeded_int(seed, f"group:{segment_id}") % groups
    stride = max(1, shards // copies)
    return [(base + copy * stride) % groups for copy in range(copies)]


def index_row(segment: Segment, copies: int) -> dict:
    """The segment's line in `docs/` (SEGMENT_INDEX_SCHEMA)."""
    return {"segment_id": segment.segment_id, "doc_id": segment.doc_id,
            "source": segment.source, "kind": segment.kind, "bucket": segment.bucket,
            "tokens": segment.tokens, "chars": segment.chars, "piece": segment.piece,
            "pieces": segment.pieces, "token_start": segment.token_start,
            "token_end": segment.token_end, "split": segment.split, "copies": copies,
            "meta": segment.meta}


def pack_group(group: GroupKey, members: Iterable[Member], plan: MixturePlan, pad_id: int,
               output: OutputConfig) -> Iterator[tuple[ShardKey, KeyedRow]]:
    """The rows one packing group's segment copies make (best-fit decreasing), each with
    its shard (the group's) and copy key."""
    bucket, index = group
    shard = (bucket, index % plan.shards[bucket])
    options = PackOptions(bucket, pad_id, output.loss_mask, output.position_ids)
    for keyed in iter_packed_rows(list(members), options):
        yield shard, keyed


def order_shard_rows(rows: list[KeyedRow], seed: int, shuffle: bool) -> list[PackedSequence]:
    """Rows of one shard in their final order: seeded shuffle, or by content when off."""
    if shuffle:
        ordered = sorted(rows, key=lambda kr: (shuffle_rank(seed, kr[0]), kr[0]))
    else:
        ordered = sorted(rows, key=lambda kr: (row_key(kr[1]), kr[0]))
    return [row for _, row in ordered]


def write_shard_rows(shard: ShardKey, rows: Iterable[KeyedRow], out_dir: str,
                     output: OutputConfig, seed: int) -> dict:
    """Order one shard's rows and write the file; its manifest entry as a dict."""
    bucket, index = shard
    ordered = order_shard_rows(list(rows), seed, output.shuffle)
    return asdict(write_shard(out_dir, bucket, index, ordered, output.loss_mask,
                              output.position_ids, output.compression))
