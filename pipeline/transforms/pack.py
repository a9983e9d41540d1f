"""The pack stage's Beam shell: segments routed to the shards that need them, shards
assembled by the row plan the driver made from lengths (`packing.rowplan`).

Only file names cross the one shuffle (grouping spill files by shard). A segment file is
read once; its pieces go to one Arrow spill file per shard it feeds; a shard's worker
reads its spill files and builds its rows in the planned order, so a worker holds at most
one shard's tokens, and the driver none.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import asdict

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from longweave.pipeline.packing.bestfit import PackOptions, build_row
from longweave.pipeline.packing.copies import ShardKey
from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.rowplan import RowPiece, RowPlan, route_segment
from longweave.pipeline.packing.segments import Segment
from longweave.pipeline.packing.shards import write_shard
from longweave.pipeline.transforms.docio import write_rows
from longweave.pipeline.transforms.ledger_io import count_as
from longweave.pipeline.transforms.progress import OUTPUT, row_tokens, track
from longweave.pipeline.transforms.stage import DROPS, write_ledger_inputs
from longweave.schemas import fs, layout
from longweave.schemas.ledger import Drop
from longweave.schemas.packed import SEGMENT_INDEX_SCHEMA, ShardEntry
from longweave.schemas.recipe_pack import OutputConfig

INDEX = "index"
PACKED_TOKENS = "packed_tokens"
COUNTS = "counts"
SHARD_LIST = "shards.json"  # the job's hand-offs to the driver, in `<tmp>/_work/`
PACKED_LIST = "packed.json"
WORK_DIR = "_work"
ROWS_DIR = "rows"  # the row plan, one JSON list per shard (written by the driver)
SPILL_DIR = "spill"  # pieces routed to each shard, one Arrow file per segment file
SPILL_SCHEMA = pa.schema([("segment_id", pa.string()), ("source", pa.string()),
                          ("input_ids", pa.list_(pa.int32())),
                          ("loss_mask", pa.list_(pa.int8()))])
READ_BATCH_ROWS = 16  # segment rows are large (a bucket of token ids each)


def shard_name(shard: ShardKey) -> str:
    return f"{shard[0]}-{shard[1]:05d}"


def write_row_plan(rows: RowPlan, work: str) -> None:
    """The driver's hand-off to the shard workers: each shard's planned rows."""
    for shard in rows.rows:
        fs.write_bytes(fs.join(work, ROWS_DIR, shard_name(shard) + ".json"),
                       json.dumps(rows.shard_rows_json(shard)).encode())


class RouteSegments(beam.DoFn):
    """One segment file in: its pieces spilled per shard (main output: (shard, spill
    path)), and per segment its index row or its drop, packed tokens and the counts."""

    def __init__(self, plan: MixturePlan, routes: dict[str, list[ShardKey]], work: str
                 ) -> None:
        self.plan, self.routes, self.work = plan, routes, work

    def process(self, path: str) -> Iterator:
        stem = os.path.basename(path).rsplit(".", 1)[0]
        writers: dict[ShardKey, _SpillWriter] = {}
        seen = 0
        with fs.open_binary(path) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=READ_BATCH_ROWS):
                wanted: dict[ShardKey, list[int]] = {}
                for number, segment in enumerate(batch_segments(batch)):
                    seen += 1
                    yield from self._route(segment, number, wanted)
                for shard, numbers in wanted.items():
                    if shard not in writers:
                        writers[shard] = _SpillWriter(fs.join(
                            self.work, SPILL_DIR, shard_name(shard), stem + ".arrow"))
                    writers[shard].write(spill_rows(batch, numbers))
        for shard, writer in sorted(writers.items()):
            yield shard, writer.close()
        yield beam.pvalue.TaggedOutput(COUNTS, ("in", seen))

    def _route(self, segment: Segment, number: int, wanted: dict[ShardKey, list[int]]
               ) -> Iterator:
        routed = route_segment(segment, self.plan, self.routes)
        if isinstance(routed, Drop):
            yield beam.pvalue.TaggedOutput(DROPS, routed)
            return
        for shard in routed.shards:
            wanted.setdefault(shard, []).append(number)
        yield beam.pvalue.TaggedOutput(INDEX, routed.index_row)
        yield beam.pvalue.TaggedOutput(PACKED_TOKENS, routed.packed)


def batch_segments(batch: pa.RecordBatch) -> list[Segment]:
    """A batch of segment rows as Segments whose token and mask arrays are numpy views of
    the batch (only the few per-segment fields become Python objects, never a token)."""
    tokens = _lists(batch.column("input_ids"))
    mask_column = batch.column("loss_mask")
    masks: list[np.ndarray | None] = list(_lists(mask_column))
    if mask_column.null_count:
        masks = [m if valid else None
                 for m, valid in zip(masks, mask_column.is_valid().to_pylist(), strict=True)]
    fields = batch.drop_columns(["input_ids", "loss_mask"]).to_pylist()
    return [Segment.from_row({**row, "input_ids": ids, "loss_mask": mask})
            for row, ids, mask in zip(fields, tokens, masks, strict=True)]


def spill_rows(batch: pa.RecordBatch, numbers: list[int]) -> pa.RecordBatch:
    """Rows `numbers` of a segment batch, as the spill file holds them (Arrow copies the
    tokens; none passes through Python)."""
    columns = [batch.column(name) for name in SPILL_SCHEMA.names]
    return pa.RecordBatch.from_arrays(columns, schema=SPILL_SCHEMA).take(numbers)


class _SpillWriter:
    """Pieces for one shard from one segment file, written a batch at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sink = io.BytesIO()
        self.writer = pa.ipc.new_stream(self.sink, SPILL_SCHEMA)

    def write(self, rows: pa.RecordBatch) -> None:
        self.writer.write_batch(rows)

    def close(self) -> str:
        self.writer.close()
        fs.write_bytes(self.path, self.sink.getvalue())
        return self.path


def read_spills(paths: list[str]) -> dict[str, RowPiece]:
    """Every piece a shard's spill files hold, by segment id."""
    pieces: dict[str, RowPiece] = {}
    for path in paths:
        with pa.ipc.open_stream(pa.BufferReader(fs.read_bytes(path))) as reader:
            for batch in reader:
                ids, sources = batch.column("segment_id").to_pylist(), batch.column(
                    "source").to_pylist()
                tokens, masks = _lists(batch.column("input_ids")), _lists(
                    batch.column("loss_mask"))
                for segment_id, source, token_ids, mask in zip(ids, sources, tokens, masks,
                                                               strict=True):
                    pieces[segment_id] = RowPiece(segment_id, source, token_ids,
                                                  mask if len(mask) else None)
    return pieces


def _lists(column: pa.ListArray) -> list[np.ndarray]:
    """A list column as numpy views, one per row (no Python int per token)."""
    offsets = column.offsets.to_numpy()
    flat = column.values.to_numpy(zero_copy_only=False)
    return [flat[lo:hi] for lo, hi in zip(offsets[:-1], offsets[1:], strict=True)]


def assemble_shard(shard: ShardKey, spills: list[str], work: str, output: OutputConfig,
                   pad_id: int, out_dir: str) -> dict:
    """Build one shard's rows in the planned order from its spilled pieces and write it."""
    planned = fs.read_json(fs.join(work, ROWS_DIR, shard_name(shard) + ".json"))
    pieces = read_spills(sorted(spills))
    options = PackOptions(shard[0], pad_id, output.loss_mask, output.position_ids)
    rows = [build_row([pieces[segment_id] for segment_id, _ in row], options)
            for row in planned]
    entry = write_shard(out_dir, shard[0], shard[1], rows, output.loss_mask,
                        output.position_ids, output.compression)
    return asdict(entry)


def write_json_list(items: list, path: str) -> None:
    fs.write_bytes(path, json.dumps(sorted(items, key=json.dumps), sort_keys=True).encode())


def pack_stage(pipeline: beam.Pipeline, segments_dir: str, plan: MixturePlan, rows: RowPlan,
               output: OutputConfig, pad_id: int, tmp: str) -> None:
    """The pack stage's job: shards into `tmp`, the segment index, the ledger's counts,
    and the shard list and packed tokens the driver reads back for the manifest.

    The driver has written the row plan under `<tmp>/_work/rows/` (`write_row_plan`)."""
    work = fs.join(tmp, WORK_DIR)
    files = sorted(fs.glob(fs.join(segments_dir, "*.parquet")))
    routed = (pipeline | "SegmentFiles" >> beam.Create(files)
              | "SpreadFiles" >> beam.Reshuffle()
              | "Route" >> beam.ParDo(RouteSegments(plan, rows.routes, work)).with_outputs(
                  DROPS, INDEX, PACKED_TOKENS, COUNTS, main="spills"))
    index = track(routed[INDEX], "Progress", "tokens", row_tokens)
    shards = (routed["spills"]
              | "SpillsByShard" >> beam.GroupByKey()
              | "Assemble" >> beam.MapTuple(
                  lambda shard, spills: assemble_shard(tuple(shard), list(spills), work,
                                                       output, pad_id, tmp)))
    shards = track(shards, "ProgressOut", "", role=OUTPUT)
    (shards | "AllShards" >> beam.combiners.ToList()
     | "WriteShardList" >> beam.Map(write_json_list, fs.join(work, SHARD_LIST)))
    (routed[PACKED_TOKENS] | "SumPacked" >> beam.CombinePerKey(sum)
     | "AllPacked" >> beam.combiners.ToList()
     | "WritePacked" >> beam.Map(write_json_list, fs.join(work, PACKED_LIST)))
    written = write_rows(index, "WriteIndex", fs.join(tmp, layout.INDEX_DIR),
                         SEGMENT_INDEX_SCHEMA)
    out = count_as(index, "out", "CountOut")
    write_ledger_inputs(tmp, routed[DROPS], [routed[COUNTS], out], [written])


def read_pack_results(tmp: str) -> tuple[list[ShardEntry], dict[tuple[str, int], int]]:
    """What `pack_stage` left for the driver: shard entries and packed tokens per
    (source, bucket); the hand-off folder is removed."""
    work = fs.join(tmp, WORK_DIR)
    shards = [ShardEntry(**s) for s in fs.read_json(fs.join(work, SHARD_LIST))]
    packed = {(s, b): n for (s, b), n in fs.read_json(fs.join(work, PACKED_LIST))}
    fs.remove_tree(work)
    return shards, packed
