"""The pack stage's per-segment decisions: which packing group each copy of a segment
joins, and the segment's line in the index (`rowplan` turns groups into rows and shards).

Every choice is a seeded hash of ids, never of arrival order, so the shards are the same
bytes whatever the number of workers.

Up-sampled copies are spread apart: each group feeds one shard (group % shards), and the
copies of a segment take groups `stride` apart from a hashed base, so they land in
distinct shards while there are as many shards as copies, else in distinct groups while
there are as many groups; inside a group best-fit never puts two copies in one row.
"""

from __future__ import annotations

from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.segments import Segment
from longweave.schemas.seeded import seeded_int

GroupKey = tuple[int, int]  # (bucket, packing group)
ShardKey = tuple[int, int]  # (bucket, shard index)


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


