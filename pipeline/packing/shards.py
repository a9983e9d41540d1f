"""Arrow IPC shards: writing them with their manifest entry, and reading them back (the
trainer-facing, resumable reader over them is `loader.PackedLoader`)."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pyarrow as pa

from longweave.schemas import fs, layout
from longweave.schemas.layout import shard_relpath
from longweave.schemas.packed import PAD_DOC_ID, Manifest, PackedSequence, ShardEntry, packed_schema


def encode_shard(rows: list[PackedSequence], loss_mask: bool, position_ids: bool,
                 compression: str) -> bytes:
    """Rows to the bytes of one compressed Arrow IPC file (deterministic for equal rows)."""
    schema = packed_schema(loss_mask, position_ids)
    table = pa.Table.from_arrays(
        [_column([getattr(r, f.name) for r in rows], f.type) for f in schema], schema=schema)
    sink = io.BytesIO()
    options = pa.ipc.IpcWriteOptions(compression=None if compression == "none" else compression)
    with pa.ipc.new_file(sink, schema, options=options) as writer:
        writer.write_table(table, max_chunksize=64)
    return sink.getvalue()


def _column(values: list, arrow_type: pa.DataType) -> pa.Array:
    """A column from per-row values; numpy rows become one list array without a copy per int."""
    if values and isinstance(values[0], np.ndarray):
        offsets = np.zeros(len(values) + 1, dtype=np.int32)
        np.cumsum([len(v) for v in values], out=offsets[1:])
        flat = np.concatenate(values).astype(arrow_type.value_type.to_pandas_dtype(),
                                              copy=False)  # rows are int32 already
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
    return pa.array(values, type=arrow_type)


def write_shard(out_dir: str, bucket: int, index: int, rows: list[PackedSequence],
                loss_mask: bool, position_ids: bool, compression: str) -> ShardEntry:
    """Write one shard and describe it for the manifest."""
    data = encode_shard(rows, loss_mask, position_ids, compression)
    relpath = shard_relpath(bucket, index)
    fs.write_bytes(fs.join(out_dir, *relpath.split("/")), data)
    pad = sum(r.cu_seqlens[-1] - r.cu_seqlens[-2] for r in rows if r.doc_ids[-1] == PAD_DOC_ID)
    return ShardEntry(
        path=relpath, bucket=bucket, rows=len(rows), tokens=sum(len(r.input_ids) for r in rows),
        bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
        segments=sum(len(r.doc_ids) - (r.doc_ids[-1] == PAD_DOC_ID) for r in rows),
        pad_tokens=pad)


def shard_paths(out_dir: str) -> list[str]:
    """Shard files relative to `out_dir` (`<bucket>/shard-XXXXX.arrow`): the manifest's list
    (sorted by bucket, then path) or, in a folder without one, what is there in that order."""
    if Manifest.exists(out_dir):
        return [shard.path for shard in Manifest.read(out_dir).shards]
    pattern = fs.join(out_dir, "*", "shard-*" + layout.SHARD_SUFFIX)
    found = ["/".join(path.replace("\\", "/").split("/")[-2:]) for path in fs.glob(pattern)]
    return sorted((p for p in found if p.split("/")[0].isdigit()),
                  key=lambda p: (layout.bucket_of_shard(p), p))


class ShardHashMismatch(ValueError):
    """A shard's bytes are not the ones its manifest recorded."""


def read_shard(path: str, sha256: str | None = None) -> pa.Table:
    """A whole shard as an Arrow table (through FileSystems, so remote paths work); with
    `sha256`, its bytes are checked against it first (the bytes are in memory anyway)."""
    data = fs.read_bytes(path)
    if sha256 is not None and (found := hashlib.sha256(data).hexdigest()) != sha256:
        raise ShardHashMismatch(f"{path}: sha256 {found[:12]}... is not the manifest's "
                                f"{sha256[:12]}...: the shard changed after it was written")
    with pa.ipc.open_file(pa.BufferReader(data)) as reader:
        return reader.read_all()
