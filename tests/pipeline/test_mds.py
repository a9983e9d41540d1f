"""MDS export: rows of real packed shards survive the round trip with ProLong's columns."""

from __future__ import annotations

import hashlib
import json
import sysconfig
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from longweave.pipeline.exports.mds import (
    MdsExportError,
    decode_ndarray,
    encode_ndarray,
    export_mds,
    read_mds,
)
from longweave.pipeline.packing.bestfit import PackOptions, pack_segments
from longweave.pipeline.packing.segments import Segment
from longweave.pipeline.packing.shards import read_shard, write_shard
from longweave.schemas.packed import PAD_DOC_ID, Manifest

STDLIB = Path(sysconfig.get_paths()["stdlib"])
MODULES = ["json/decoder.py", "json/encoder.py", "json/scanner.py", "json/tool.py",
           "textwrap.py", "colorsys.py", "bisect.py", "keyword.py", "this.py"]
BUCKET = 4096


def stdlib_segments() -> list[Segment]:
    """Real code as token ids (its UTF-8 bytes, +3 so 0..2 stay special), cut to fit."""
    segments = []
    for name in MODULES:
        ids = np.frombuffer((STDLIB / name).read_bytes(), np.uint8).astype(np.int32) + 3
        for piece, start in enumerate(range(0, len(ids), BUCKET - 1)):
            chunk = np.append(ids[start:start + BUCKET - 1], 1).astype(np.int32)
            segments.append(Segment(
                segment_id=f"{name}#{piece}", doc_id=name, source="stdlib", kind="text",
                bucket=BUCKET, input_ids=chunk, loss_mask=None, chars=len(chunk), piece=piece,
                pieces=0, split="cut"))
    return segments


def build_output(out: Path) -> list[str]:
    """Two Arrow shards of best-fit rows, written as the Pack stage writes them."""
    rows = pack_segments([(s, 0) for s in stdlib_segments()],
                         PackOptions(BUCKET, pad_id=0, loss_mask=True, position_ids=False))
    assert any(r.doc_ids[-1] == PAD_DOC_ID for r in rows) and len(rows) >= 4
    half = len(rows) // 2
    entries = [write_shard(str(out), BUCKET, i, part, True, False, "zstd")
               for i, part in enumerate((rows[:half], rows[half:]))]
    Manifest(recipe_name="mds-test", recipe_hash="-", tokenizer_hash="-", buckets=[BUCKET],
             shards=entries).write(str(out))
    return [e.path for e in entries]


def shard_rows(out: Path, paths: list[str]) -> list[dict]:
    return [row for p in paths for row in read_shard(str(out / p)).to_pylist()]


@pytest.mark.parametrize("compression", [None, "zstd"])
def test_round_trip_rows_equal(tmp_path: Path, compression: str | None) -> None:
    out, dest = tmp_path / "out", tmp_path / "mds"
    rows = shard_rows(out, build_output(out))
    summary = export_mds(str(out), str(dest), compression=compression, size_limit=20_000,
                         extra=True)
    samples = list(read_mds(str(dest / str(BUCKET))))
    assert summary[BUCKET]["rows"] == len(rows) == len(samples)
    assert summary[BUCKET]["mds_shards"] > 1  # the small size limit rolls shards over
    for shard in json.loads((dest / str(BUCKET) / "index.json").read_text())["shards"]:
        stored = shard["zip_data"] or shard["raw_data"]
        data = (dest / str(BUCKET) / stored["basename"]).read_bytes()
        assert len(data) == stored["bytes"]  # the file is exactly what the index describes
        assert hashlib.sha1(data).hexdigest() == stored["hashes"]["sha1"]
        if compression:
            raw = pa.Codec("zstd").decompress(data, shard["raw_data"]["bytes"], asbytes=True)
            assert hashlib.sha1(raw).hexdigest() == shard["raw_data"]["hashes"]["sha1"]
    for row, sample in zip(rows, samples, strict=True):
        assert sample["input_ids"].dtype == np.int32
        assert sample["input_ids"].tolist() == row["input_ids"]
        real_docs = [d != PAD_DOC_ID for d in row["doc_ids"]]
        bounds = list(zip(row["cu_seqlens"], row["cu_seqlens"][1:], strict=False))
        assert sample["indices"].tolist() == [list(b) for b, k in zip(bounds, real_docs,
                                                                      strict=True) if k]
        assert sample["doc_ids"] == [d for d in row["doc_ids"] if d != PAD_DOC_ID]
        for (start, end), doc in zip(sample["indices"].tolist(), sample["doc_ids"],
                                     strict=True):
            assert sample["input_ids"][end - 1] == 1  # each document ends with its EOS
            assert doc in {f"{m}#{i}" for m in MODULES for i in range(40)}
            assert 0 <= start < end <= BUCKET


def test_padding_kept_on_request_and_files_listed(tmp_path: Path) -> None:
    out, dest = tmp_path / "out", tmp_path / "mds"
    rows = shard_rows(out, build_output(out))
    export_mds(str(out), str(dest), include_padding=True)
    samples = list(read_mds(str(dest / str(BUCKET))))
    for row, sample in zip(rows, samples, strict=True):
        assert sample["indices"][-1, 1] == BUCKET == len(sample["input_ids"])
        assert len(sample["indices"]) == len(row["doc_ids"])
    index = json.loads((dest / str(BUCKET) / "index.json").read_text())
    shard = index["shards"][0]
    assert index["version"] == 2 and shard["format"] == "mds"
    # the shards carry a loss mask, so the export keeps it beside ProLong's two columns
    assert shard["column_names"] == ["indices", "input_ids", "loss_mask"]
    assert shard["column_encodings"] == ["ndarray:int32", "ndarray:int32", "ndarray:uint8"]
    for row, sample in zip(rows, samples, strict=True):
        assert sample["loss_mask"].tolist() == row["loss_mask"]
    data = (dest / str(BUCKET) / shard["raw_data"]["basename"]).read_bytes()
    assert len(data) == shard["raw_data"]["bytes"]
    assert int(np.frombuffer(data[:4], np.uint32)[0]) == shard["samples"] == len(rows)


def test_ndarray_layout_matches_the_published_encoding() -> None:
    # 2-D array whose largest dimension fits uint8: first byte = ndim << 2 | 0 (uint8 shape)
    pairs = np.asarray([[0, 5], [5, 300]], dtype=np.int32)
    data = encode_ndarray(pairs)
    assert data[0] == (2 << 2) | 0 and list(data[1:3]) == [2, 2]
    assert data[3:] == pairs.tobytes()
    # a 70 000-long vector needs a uint32 shape (code 2)
    long = np.arange(70_000, dtype=np.int32)
    encoded = encode_ndarray(long)
    assert encoded[0] == (1 << 2) | 2
    assert np.array_equal(decode_ndarray(encoded, "int32"), long)


def test_bad_requests_fail_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(MdsExportError, match="no shards found"):
        export_mds(str(tmp_path), str(tmp_path / "mds"))
    out = tmp_path / "out"
    build_output(out)
    with pytest.raises(MdsExportError, match="compression 'gzip'"):
        export_mds(str(out), str(tmp_path / "mds"), compression="gzip")
    with pytest.raises(MdsExportError, match="empty array"):
        encode_ndarray(np.zeros(0, dtype=np.int32))


def test_the_streaming_package_reads_the_export(tmp_path: Path) -> None:
    """Cross-check with mosaicml-streaming's own reader when it is importable (needs torch)."""
    reader_module = pytest.importorskip(
        "streaming.base.format.mds.reader",
        reason="mosaicml-streaming (with torch) is not installed; format checked above")
    out, dest = tmp_path / "out", tmp_path / "mds"
    rows = shard_rows(out, build_output(out))
    export_mds(str(out), str(dest))
    folder = dest / str(BUCKET)
    index = json.loads((folder / "index.json").read_text())
    got = []
    for shard in index["shards"]:
        reader = reader_module.MDSReader.from_json(str(folder), None, shard)
        got += [reader.decode_sample(reader.get_sample_data(i)) for i in range(reader.samples)]
    assert [g["input_ids"].tolist() for g in got] == [r["input_ids"] for r in rows]
