"""The stage file writer (pipeline/transforms/files.py): a file per bundle, named by one
finalize step that also clears what failed attempts left."""

from __future__ import annotations

import json

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from longweave.pipeline.transforms import files
from longweave.pipeline.transforms.files import (
    FileSet,
    JsonLines,
    NameFiles,
    ParquetRows,
    name_files,
    write_bundles,
)

SCHEMA = pa.schema([("id", pa.string(), False), ("tokens", pa.list_(pa.int32())),
                    ("note", pa.string())])
TWO_WORKERS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def rows(n: int) -> list[dict]:
    return [{"id": f"r{i:04d}", "tokens": list(range(i % 50))} | ({"note": "x"} if i % 3 else {})
            for i in range(n)]


def write(tmp_path, elements, file_format, args=(), prefix="part"):
    with beam.Pipeline(options=PipelineOptions(list(args))) as pipeline:
        pending = write_bundles(pipeline | beam.Create(elements), "Write",
                                FileSet(str(tmp_path), file_format, prefix))
        pipeline | NameFiles([pending])


@pytest.mark.slow
def test_parquet_rows_come_back_whole_and_named_in_order(tmp_path):
    write(tmp_path, rows(600), ParquetRows(SCHEMA), TWO_WORKERS)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"part-{i:05d}-of-{len(names):05d}.parquet" for i in range(len(names))]
    table = pa.concat_tables(pq.read_table(tmp_path / n) for n in names)
    assert table.schema.equals(SCHEMA)
    got = sorted(table.to_pylist(), key=lambda r: r["id"])
    assert got == [{"note": None} | r for r in rows(600)]  # a missing nullable field: null


def test_row_groups_stay_small(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "ROW_GROUP_BYTES", 2_000)
    with (tmp_path / "one.parquet").open("wb") as handle:
        writer = ParquetRows(SCHEMA).writer(handle)
        for row in rows(200):
            writer.add(row)
        writer.close()
    parquet = pq.ParquetFile(tmp_path / "one.parquet")
    assert parquet.metadata.num_row_groups > 5 and parquet.metadata.num_rows == 200
    assert all(parquet.metadata.row_group(g).num_rows <= 64
               for g in range(parquet.metadata.num_row_groups))


def test_no_element_is_one_empty_file_with_the_schema(tmp_path):
    write(tmp_path / "p", [], ParquetRows(SCHEMA))
    write(tmp_path / "j", [], JsonLines())
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["part-00000-of-00001.parquet"]
    table = pq.read_table(tmp_path / "p" / "part-00000-of-00001.parquet")
    assert table.num_rows == 0 and table.schema.equals(SCHEMA)
    assert (tmp_path / "j" / "part-00000-of-00001.jsonl").read_bytes() == b""


def test_json_lines_and_two_writers_sharing_a_folder(tmp_path):
    records = [{"b": i, "a": [i, "x"]} for i in range(50)]
    with beam.Pipeline() as pipeline:
        one = write_bundles(pipeline | "One" >> beam.Create(records), "W1",
                            FileSet(str(tmp_path), JsonLines()))
        two = write_bundles(pipeline | "Two" >> beam.Create(records[:5]), "W2",
                            FileSet(str(tmp_path), JsonLines(), "part1"))
        pipeline | NameFiles([one, two])
    first = [line for p in sorted(tmp_path.glob("part-*.jsonl"))
             for line in p.read_text().splitlines()]
    assert sorted(first, key=lambda line: json.loads(line)["b"]) == [
        json.dumps(r, sort_keys=True) for r in records]
    assert len([*tmp_path.glob("part1-*.jsonl")]) >= 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_file_no_bundle_reported_is_removed_not_published(tmp_path):
    """A retried bundle's first attempt wrote a file the finalize step never hears of."""
    attempts = tmp_path / ".attempts-part"
    attempts.mkdir()
    for name, text in (("kept-b.jsonl", "2\n"), ("kept-a.jsonl", "1\n"),
                       ("failed.jsonl", "1\n")):
        (attempts / name).write_text(text)
    files = FileSet(str(tmp_path), JsonLines())
    assert files.attempts == str(attempts)
    done = name_files(files, [str(attempts / "kept-b.jsonl"), str(attempts / "kept-a.jsonl")])
    assert [p.rsplit("/", 1)[1] for p in done] == ["part-00000-of-00002.jsonl",
                                                   "part-00001-of-00002.jsonl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part-00000-of-00002.jsonl",
                                                          "part-00001-of-00002.jsonl"]
    assert (tmp_path / "part-00000-of-00002.jsonl").read_text() == "1\n"
    # a retried finishing step (the files already moved) changes nothing and does not fail
    assert name_files(files, [str(attempts / "kept-b.jsonl"),
                              str(attempts / "kept-a.jsonl")]) == done
    assert (tmp_path / "part-00001-of-00002.jsonl").read_text() == "2\n"
    assert name_files(FileSet(str(tmp_path / "e"), JsonLines()), []) == name_files(
        FileSet(str(tmp_path / "e"), JsonLines()), [])


def test_one_step_names_every_output_then_writes_the_counts(tmp_path):
    """The stage shell's finish: two outputs' files named, then `after` gets its input."""
    counts = tmp_path / "counts.json"
    with beam.Pipeline() as pipeline:
        a = write_bundles(pipeline | "A" >> beam.Create(rows(20)), "WriteA",
                          FileSet(str(tmp_path / "a"), ParquetRows(SCHEMA)))
        b = write_bundles(pipeline | "B" >> beam.Create([{"x": 1}]), "WriteB",
                          FileSet(str(tmp_path / "b"), JsonLines()))
        sums = pipeline | "Sums" >> beam.Create([("in", 20), ("out", 1)])
        pipeline | NameFiles([a, b], lambda found: counts.write_text(json.dumps(sorted(found))),
                             sums)
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["part-00000-of-00001.parquet"]
    assert (tmp_path / "b" / "part-00000-of-00001.jsonl").read_text() == '{"x": 1}\n'
    assert json.loads(counts.read_text()) == [["in", 20], ["out", 1]]
