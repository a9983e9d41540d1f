"""The Pack transform: mixture copies, best-fit packing per group, shuffled shards.

Grouping is by (bucket, hashed group) so no worker holds more than a group's rows; rows go
to shards by a seeded hash of their contents and are ordered inside a shard by another, so
the shards are the same bytes whatever the number of workers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict

import apache_beam as beam

from longweave.pipeline.packing.bestfit import PackOptions, iter_packed_rows, row_key, shuffle_rank
from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.segments import Segment
from longweave.pipeline.packing.shards import write_shard
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS
from longweave.schemas import fs
from longweave.schemas.ledger import Drop
from longweave.schemas.packed import PackedSequence
from longweave.schemas.recipe_pack import OutputConfig
from longweave.schemas.seeded import seeded_int

SHARDS = "shards"
INDEX = "index"
PACKED_TOKENS = "packed_tokens"


def assign_copies(row: dict, plan: MixturePlan) -> Iterator:
    """A segment row to its `((bucket, group), (segment, copy))` items, or a sampled-out drop."""
    segment = Segment.from_row(row)
    key = (segment.segment_id, segment.source, segment.bucket, segment.tokens)
    copies = plan.copies(*key)
    if copies == 0:
        reason = plan.drop_reason(*key)
        yield beam.pvalue.TaggedOutput(
            DROPS, Drop(segment.segment_id, segment.source, reason,
                        f"bucket {segment.bucket}, {segment.tokens} tokens"))
        return
    yield beam.pvalue.TaggedOutput(INDEX, index_row(segment, copies))
    yield beam.pvalue.TaggedOutput(
        PACKED_TOKENS, ((segment.source, segment.bucket), segment.tokens * copies))
    groups = plan.groups[segment.bucket]
    for copy in range(copies):
        group = seeded_int(plan.seed, f"group:{segment.segment_id}@{copy}") % groups
        yield ((segment.bucket, group), (segment, copy))


def index_row(segment: Segment, copies: int) -> dict:
    """The segment's line in `docs/` (SEGMENT_INDEX_SCHEMA)."""
    return {"segment_id": segment.segment_id, "doc_id": segment.doc_id,
            "source": segment.source, "kind": segment.kind, "bucket": segment.bucket,
            "tokens": segment.tokens, "chars": segment.chars, "piece": segment.piece,
            "pieces": segment.pieces, "split": segment.split, "copies": copies,
            "meta": segment.meta}


def shard_of(row: PackedSequence, plan: MixturePlan) -> tuple[tuple[int, int], PackedSequence]:
    index = seeded_int(plan.seed, "shard:" + row_key(row)) % plan.shards[row.bucket]
    return ((row.bucket, index), row)


def order_shard_rows(rows: list[PackedSequence], seed: int, shuffle: bool
                     ) -> list[PackedSequence]:
    """Rows of one shard in their final order: seeded shuffle, or by content when off."""
    if shuffle:
        return sorted(rows, key=lambda r: (shuffle_rank(seed, r), row_key(r)))
    return sorted(rows, key=row_key)


class Pack(beam.PTransform):
    """Segment rows in; shard entries, the segment index, packed-token counts and drops out."""

    def __init__(self, plan: MixturePlan, output: OutputConfig, pad_id: int, out_dir: str
                 ) -> None:
        super().__init__()
        self.plan = plan
        self.output = output
        self.pad_id = pad_id
        self.out_dir = out_dir

    def expand(self, rows: beam.PCollection) -> dict:
        plan, output, pad_id, out_dir = self.plan, self.output, self.pad_id, self.out_dir
        assigned = rows | "AssignCopies" >> beam.FlatMap(assign_copies, plan).with_outputs(
            DROPS, INDEX, PACKED_TOKENS, main="items")

        def pack_group(item: tuple) -> Iterator[PackedSequence]:
            (bucket, _), members = item
            return iter_packed_rows(list(members), PackOptions(
                bucket, pad_id, output.loss_mask, output.position_ids))

        def write(item: tuple) -> dict:
            (bucket, index), members = item
            ordered = order_shard_rows(list(members), plan.seed, output.shuffle)
            entry = write_shard(out_dir, bucket, index, ordered, output.loss_mask,
                                output.position_ids, output.compression)
            return asdict(entry)

        shards = (assigned["items"]
                  | "GroupForPacking" >> beam.GroupByKey()
                  | "BestFit" >> beam.FlatMap(pack_group)
                  | "ToShard" >> beam.Map(shard_of, plan)
                  | "GroupByShard" >> beam.GroupByKey()
                  | "WriteShard" >> beam.Map(write))
        packed = assigned[INDEX]
        return {SHARDS: shards, INDEX: packed, DROPS: assigned[DROPS],
                PACKED_TOKENS: assigned[PACKED_TOKENS] | "SumPacked" >> beam.CombinePerKey(sum),
                DOCUMENTS: packed}


def write_json_list(items: list, path: str) -> None:
    fs.write_bytes(path, json.dumps(sorted(items, key=json.dumps), sort_keys=True).encode())
