"""Export of an output folder's shards to MosaicML streaming MDS, with ProLong's columns.

ProLong-style trainers read MDS datasets whose samples hold `input_ids` (the row's tokens)
and `indices` (one `(start, end)` pair per document, from which they build varlen
attention boundaries). Each bucket becomes its own MDS dataset (`<dest>/<bucket>/`),
because a trainer draws rows of one length.

The `mosaicml-streaming` package cannot be used to write: importing it imports torch (and
it pins numpy below 2.2), so the format is written here following its published layout
(format version 2), byte for byte what its `MDSWriter` writes for the same samples:
- a sample is `uint32 sizes of the variable-size columns` + each column's encoding, in
  column-name order; `ndarray:<dtype>` encodes `[ndim << 2 | shape dtype code]`,
  the shape, then the raw values;
- a shard file is `uint32 sample count`, `uint32 offsets[count + 1]` (from the file
  start), the shard's config JSON, then the samples;
- `index.json` lists every shard with its sample count, file names, sizes and hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from longweave.pipeline.packing.shards import read_shard, shard_paths
from longweave.schemas import fs
from longweave.schemas.layout import bucket_of_shard
from longweave.schemas.packed import PAD_DOC_ID

INDEX_FILE = "index.json"
MDS_VERSION = 2
DEFAULT_SIZE_LIMIT = 1 << 26  # bytes per shard, as MDSWriter's default
BYTES_PER_SAMPLE_OVERHEAD = 4  # each sample's entry in the offsets table
PROLONG_COLUMNS = {"indices": "ndarray:int32", "input_ids": "ndarray:int32"}
EXTRA_COLUMNS = {"doc_ids": "json", "doc_sources": "json"}
# carried over whenever the shards have them: a trainer needs the loss mask (a QA sample's
# context is not learned) and, without varlen attention, per-document positions
OPTIONAL_COLUMNS = {"loss_mask": "ndarray:uint8", "position_ids": "ndarray:int32"}
SUPPORTED_COMPRESSION = (None, "zstd")
# shape dtype codes of the `ndarray` encoding (low two bits of its first byte)
SHAPE_DTYPES = ("uint8", "uint16", "uint32", "uint64")


class MdsExportError(ValueError):
    """The export was asked for something the MDS format or this writer cannot do."""


def encode_ndarray(array: np.ndarray) -> bytes:
    """An array under an `ndarray:<dtype>` column: shape header (dtype is in the config)."""
    if array.size == 0:
        raise MdsExportError("MDS cannot store an empty array")
    shape = np.asarray(array.shape, dtype=np.int64)
    largest = int(shape.max())
    code = next(i for i, bits in enumerate((8, 16, 32, 64)) if largest < (1 << bits))
    header = bytes([(len(array.shape) << 2) | code])
    return header + shape.astype(SHAPE_DTYPES[code]).tobytes() + array.tobytes()


def decode_ndarray(data: bytes, dtype: str) -> np.ndarray:
    ndim, code = data[0] >> 2, data[0] & 3
    shape_dtype = np.dtype(SHAPE_DTYPES[code])
    end = 1 + ndim * shape_dtype.itemsize
    shape = tuple(int(n) for n in np.frombuffer(data[1:end], shape_dtype))
    return np.frombuffer(data[end:], dtype).reshape(shape)


def _encode_value(encoding: str, value: Any) -> bytes:
    if encoding.startswith("ndarray:"):
        return encode_ndarray(np.ascontiguousarray(value, dtype=encoding.split(":")[1]))
    if encoding == "json":
        return json.dumps(value, sort_keys=True).encode("utf-8")
    raise MdsExportError(f"unsupported MDS encoding {encoding!r}")


def _decode_value(encoding: str, data: bytes) -> Any:
    if encoding.startswith("ndarray:"):
        return decode_ndarray(data, encoding.split(":")[1])
    if encoding == "json":
        return json.loads(data.decode("utf-8"))
    raise MdsExportError(f"unsupported MDS encoding {encoding!r}")


def encode_sample(columns: dict[str, str], sample: dict[str, Any]) -> bytes:
    """One sample: the sizes of its (all variable-size) columns, then their bytes."""
    parts = [_encode_value(columns[name], sample[name]) for name in sorted(columns)]
    return np.asarray([len(p) for p in parts], dtype=np.uint32).tobytes() + b"".join(parts)


def decode_sample(columns: dict[str, str], data: bytes) -> dict[str, Any]:
    names = sorted(columns)
    sizes = np.frombuffer(data[:4 * len(names)], np.uint32)
    sample, position = {}, 4 * len(names)
    for name, size in zip(names, sizes.tolist(), strict=True):
        sample[name] = _decode_value(columns[name], data[position:position + size])
        position += size
    return sample


@dataclass
class MdsWriter:
    """Writes one MDS dataset folder; shards roll over at `size_limit` bytes like MDSWriter's."""

    dest: str
    columns: dict[str, str]
    compression: str | None = None
    hashes: tuple[str, ...] = ("sha1",)
    size_limit: int = DEFAULT_SIZE_LIMIT
    shards: list[dict[str, Any]] = field(default_factory=list)
    _pending: list[bytes] = field(default_factory=list)
    _pending_bytes: int = 0

    def __post_init__(self) -> None:
        if self.compression not in SUPPORTED_COMPRESSION:
            raise MdsExportError(f"compression {self.compression!r}: use one of "
                                 f"{SUPPORTED_COMPRESSION}")
        if list(self.hashes) != sorted(self.hashes):
            raise MdsExportError(f"hashes must be sorted: {self.hashes}")
        for algorithm in self.hashes:
            hashlib.new(algorithm)  # unknown names fail here, before anything is written
        self.config = {
            "version": MDS_VERSION, "format": "mds", "compression": self.compression,
            "hashes": list(self.hashes), "size_limit": self.size_limit,
            "column_names": sorted(self.columns),
            "column_encodings": [self.columns[n] for n in sorted(self.columns)],
            "column_sizes": [None] * len(self.columns),
        }
        self.config_bytes = json.dumps(self.config, sort_keys=True).encode("utf-8")
        self._pending_bytes = self._empty_shard_bytes()

    def _empty_shard_bytes(self) -> int:
        return 4 + 4 + len(self.config_bytes)

    def write(self, sample: dict[str, Any]) -> None:
        data = encode_sample(self.columns, sample)
        size = len(data) + BYTES_PER_SAMPLE_OVERHEAD
        if self.size_limit and self._pending and self.size_limit < self._pending_bytes + size:
            self._flush()
        self._pending.append(data)
        self._pending_bytes += size

    def _file_info(self, basename: str, data: bytes) -> dict[str, Any]:
        return {"basename": basename, "bytes": len(data),
                "hashes": {a: hashlib.new(a, data).hexdigest() for a in self.hashes}}

    def _flush(self) -> None:
        if not self._pending:
            return
        count = len(self._pending)
        header = len(self._pending) + 1
        offsets = np.cumsum([0] + [len(s) for s in self._pending], dtype=np.int64)
        offsets += 4 + 4 * header + len(self.config_bytes)
        raw = (np.uint32(count).tobytes() + offsets.astype(np.uint32).tobytes()
               + self.config_bytes + b"".join(self._pending))
        basename = f"shard.{len(self.shards):05d}.mds"
        raw_info, zip_info, data, name = self._file_info(basename, raw), None, raw, basename
        if self.compression == "zstd":
            data = pa.Codec("zstd").compress(raw, asbytes=True)
            name = f"{basename}.zstd"
            zip_info = self._file_info(name, data)
        fs.write_bytes(fs.join(self.dest, name), data)
        self.shards.append({"samples": count, "raw_data": raw_info, "zip_data": zip_info,
                            **self.config})
        self._pending = []
        self._pending_bytes = self._empty_shard_bytes()

    def finish(self) -> dict[str, Any]:
        """Flush the last shard and write `index.json`; returns the index."""
        self._flush()
        index = {"version": MDS_VERSION, "shards": self.shards}
        fs.write_bytes(fs.join(self.dest, INDEX_FILE),
                       json.dumps(index, sort_keys=True).encode("utf-8"))
        return index


def row_to_sample(input_ids: np.ndarray, cu_seqlens: list[int], doc_ids: list[str],
                  doc_sources: list[str], include_padding: bool, extra: bool,
                  per_token: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """A shard row as a ProLong sample: `indices` are cu_seqlens' consecutive pairs.

    The pad tail is left out of `indices` by default, so a trainer that learns on every
    token inside `indices` (as ProLong's collator does) never learns to predict padding.
    """
    pairs = [(a, b) for a, b, doc in zip(cu_seqlens, cu_seqlens[1:], doc_ids, strict=False)
             if include_padding or doc != PAD_DOC_ID]
    if not pairs:
        raise MdsExportError("a row with no document cannot be stored (MDS has no empty arrays)")
    sample: dict[str, Any] = {"input_ids": input_ids,
                              "indices": np.asarray(pairs, dtype=np.int32).reshape(-1, 2),
                              **(per_token or {})}
    if extra:
        keep = [include_padding or d != PAD_DOC_ID for d in doc_ids]
        sample["doc_ids"] = [d for d, k in zip(doc_ids, keep, strict=True) if k]
        sample["doc_sources"] = [s for s, k in zip(doc_sources, keep, strict=True) if k]
    return sample


def iter_shard_samples(table: pa.Table, include_padding: bool, extra: bool
                       ) -> Iterator[dict[str, Any]]:
    """Samples of one Arrow shard, per-token columns sliced without Python lists."""
    names = ["input_ids", *(n for n in OPTIONAL_COLUMNS if n in table.column_names)]
    dtypes = {"input_ids": "int32", **{n: e.split(":")[1] for n, e in OPTIONAL_COLUMNS.items()}}
    flat = {}
    for name in names:
        column = table.column(name).combine_chunks()
        flat[name] = (column.values.to_numpy(zero_copy_only=False)
                      .astype(dtypes[name], copy=False), column.offsets.to_numpy())
    cu = table.column("cu_seqlens").to_pylist()
    doc_ids = table.column("doc_ids").to_pylist()
    sources = table.column("doc_sources").to_pylist()
    for row in range(table.num_rows):
        arrays = {name: values[offsets[row]:offsets[row + 1]]
                  for name, (values, offsets) in flat.items()}
        ids = arrays.pop("input_ids")
        yield row_to_sample(ids, cu[row], doc_ids[row], sources[row], include_padding, extra,
                            arrays)


def export_mds(out_dir: str, dest: str, compression: str | None = None,
               size_limit: int = DEFAULT_SIZE_LIMIT, hashes: tuple[str, ...] = ("sha1",),
               include_padding: bool = False, extra: bool = False) -> dict[int, dict[str, Any]]:
    """Write `<dest>/<bucket>/` MDS datasets from the shards of `out_dir`.

    `extra` adds `doc_ids` and `doc_sources` (JSON columns) beside ProLong's two;
    `loss_mask` and `position_ids` come along whenever the shards have them. Returns per
    bucket the rows, tokens, columns and MDS shard count written.
    """
    shards = shard_paths(out_dir)
    if not shards:
        raise MdsExportError(f"{out_dir}: no shards found (no manifest.json, no "
                             f"<bucket>/shard-*.arrow)")
    writers: dict[int, MdsWriter] = {}
    summary: dict[int, dict[str, Any]] = {}
    for relpath in shards:
        bucket = bucket_of_shard(relpath)
        table = read_shard(fs.join(out_dir, *relpath.split("/")))
        if bucket not in writers:
            columns = {**PROLONG_COLUMNS, **(EXTRA_COLUMNS if extra else {}),
                       **{n: e for n, e in OPTIONAL_COLUMNS.items() if n in table.column_names}}
            writers[bucket] = MdsWriter(fs.join(dest, str(bucket)), columns, compression,
                                        tuple(hashes), size_limit)
            summary[bucket] = {"rows": 0, "tokens": 0, "columns": sorted(columns)}
        writer, counts = writers[bucket], summary[bucket]
        for sample in iter_shard_samples(table, include_padding, extra):
            writer.write(sample)
            counts["rows"] += 1
            counts["tokens"] += int(len(sample["input_ids"]))
    for bucket, writer in sorted(writers.items()):
        summary[bucket]["mds_shards"] = len(writer.finish()["shards"])
    return summary


def read_mds(dataset: str) -> Iterator[dict[str, Any]]:
    """Every sample of one MDS dataset folder, in order (a check, not a training loader)."""
    index = fs.read_json(fs.join(dataset, INDEX_FILE))
    for shard in index["shards"]:
        columns = dict(zip(shard["column_names"], shard["column_encodings"], strict=True))
        if shard["zip_data"]:
            data = fs.read_bytes(fs.join(dataset, shard["zip_data"]["basename"]))
            raw = pa.Codec("zstd").decompress(data, decompressed_size=shard["raw_data"]["bytes"],
                                              asbytes=True)
        else:
            raw = fs.read_bytes(fs.join(dataset, shard["raw_data"]["basename"]))
        count = int(np.frombuffer(raw[:4], np.uint32)[0])
        offsets = np.frombuffer(raw[4:4 + 4 * (count + 1)], np.uint32)
        for begin, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
            yield decode_sample(columns, raw[begin:end])
