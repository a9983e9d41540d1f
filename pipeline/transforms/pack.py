"""The pack stage's Beam shell: segment copies grouped, best-fit rows per group, rows
grouped by their group's shard and written. The decisions are in
`longweave.pipeline.packing.copies`.

Grouping is by (bucket, hashed group) so no worker holds more than a group's rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import apache_beam as beam

from longweave.pipeline.packing.copies import (
    assign_copies,
    pack_group,
    write_shard_rows,
)
from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.segments import Segment
from longweave.pipeline.transforms.docio import WriteRows, read_rows
from longweave.pipeline.transforms.ledger_io import count_as
from longweave.pipeline.transforms.progress import row_tokens, track
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS, write_ledger_inputs
from longweave.schemas import fs, layout
from longweave.schemas.ledger import Drop
from longweave.schemas.packed import SEGMENT_INDEX_SCHEMA, ShardEntry
from longweave.schemas.recipe_pack import OutputConfig

SHARDS = "shards"
INDEX = "index"
PACKED_TOKENS = "packed_tokens"
SHARD_LIST = "shards.json"  # the job's hand-offs to the driver, in `<tmp>/_work/`
PACKED_LIST = "packed.json"
WORK_DIR = "_work"


def _tag_assignment(row: dict, plan: MixturePlan) -> Iterator:
    result = assign_copies(Segment.from_row(row), plan)
    if isinstance(result, Drop):
        yield beam.pvalue.TaggedOutput(DROPS, result)
        return
    yield beam.pvalue.TaggedOutput(INDEX, result.index_row)
    yield beam.pvalue.TaggedOutput(PACKED_TOKENS, result.packed)
    yield from result.copies


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
        assigned = rows | "AssignCopies" >> beam.FlatMap(_tag_assignment, plan).with_outputs(
            DROPS, INDEX, PACKED_TOKENS, main="items")
        shards = (assigned["items"]
                  | "GroupForPacking" >> beam.GroupByKey()
                  | "BestFit" >> beam.FlatMap(
                      lambda group: pack_group(group[0], group[1], plan, pad_id, output))
                  | "GroupByShard" >> beam.GroupByKey()
                  | "WriteShard" >> beam.Map(
                      lambda shard: write_shard_rows(shard[0], shard[1], out_dir, output,
                                                     plan.seed)))
        packed = assigned[INDEX]
        return {SHARDS: shards, INDEX: packed, DROPS: assigned[DROPS],
                PACKED_TOKENS: assigned[PACKED_TOKENS] | "SumPacked" >> beam.CombinePerKey(sum),
                DOCUMENTS: packed}


def write_json_list(items: list, path: str) -> None:
    fs.write_bytes(path, json.dumps(sorted(items, key=json.dumps), sort_keys=True).encode())


def pack_stage(pipeline: beam.Pipeline, segments_dir: str, plan: MixturePlan,
               output: OutputConfig, pad_id: int, tmp: str) -> None:
    """The pack stage's job: shards into `tmp`, the segment index, the ledger's counts,
    and the shard list and packed tokens the driver reads back for the manifest."""
    work = fs.join(tmp, WORK_DIR)
    rows = track(read_rows(pipeline, fs.join(segments_dir, "*.parquet")), "Progress",
                 "tokens", row_tokens)
    result = rows | "Pack" >> Pack(plan, output, pad_id, tmp)
    (result[SHARDS] | "AllShards" >> beam.combiners.ToList()
     | "WriteShardList" >> beam.Map(write_json_list, fs.join(work, SHARD_LIST)))
    (result[PACKED_TOKENS] | "AllPacked" >> beam.combiners.ToList()
     | "WritePacked" >> beam.Map(write_json_list, fs.join(work, PACKED_LIST)))
    result[INDEX] | "WriteIndex" >> WriteRows(fs.join(tmp, layout.INDEX_DIR),
                                              SEGMENT_INDEX_SCHEMA)
    write_ledger_inputs(tmp, result[DROPS], [
        count_as(rows, "in", "CountIn"), count_as(result[INDEX], "out", "CountOut")])


def read_pack_results(tmp: str) -> tuple[list[ShardEntry], dict[tuple[str, int], int]]:
    """What `pack_stage` left for the driver: shard entries and packed tokens per
    (source, bucket); the hand-off folder is removed."""
    work = fs.join(tmp, WORK_DIR)
    shards = [ShardEntry(**s) for s in fs.read_json(fs.join(work, SHARD_LIST))]
    packed = {(s, b): n for (s, b), n in fs.read_json(fs.join(work, PACKED_LIST))}
    fs.remove_tree(work)
    return shards, packed
