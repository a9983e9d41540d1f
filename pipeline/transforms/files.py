"""The files a stage writes (Parquet rows, JSON lines): a file per bundle, named by one
finalize step.

Why not Beam's WriteToParquet / WriteToText: each is a dozen steps (a job to initialise,
the bundle writes, a shuffle of their results, jobs to pre-finalize and finalize), about
four fused stages that every worker sets up; a dedupe stage writing five outputs spent a
third of its transforms on them. The Parquet one also pickles the Arrow tables it makes
between its own steps to estimate their size: the whole output, once more.

Here each bundle writes its elements to one file of its own under the folder's
`.attempts-<prefix>/`, and the file's path is its only output. One finishing step, which
gets every path as a side input, renames them to `<prefix>-NNNNN-of-NNNNN<suffix>` and
removes the attempts folder (the stage shell has one such step for all its outputs and
its counts file): a bundle that failed and was retried left a file no path
names, and it goes with the folder. No element at all still gives one empty file (a
Parquet file with the schema), as Beam's writers do, so a reader finds the columns.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple, Protocol

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.transforms.window import GlobalWindows

from longweave.schemas import fs

# Rows are kept as Python objects `WRITE_BATCH_ROWS` at a time before they become Arrow,
# and `ROW_GROUP_BYTES` of Arrow make a row group. Our rows are large (a repository's
# text, a segment's token list at ~36 bytes a token as Python ints): small batches and
# row groups bound a writer's memory by a few rows whatever the corpus size, and make
# readers, which hold a row group at a time, as light.
WRITE_BATCH_ROWS = 16
ROW_GROUP_BYTES = 8 * 1024 * 1024


class FileWriter(Protocol):
    def add(self, element: Any) -> None: ...

    def close(self) -> None: ...


class FileFormat(Protocol):
    """How elements become one file: `suffix`, and a writer over an open handle."""

    suffix: str

    def writer(self, handle: BinaryIO) -> FileWriter: ...


class ParquetRows:
    """Dict rows of a fixed schema (a missing nullable field is null), zstd-compressed."""

    suffix = ".parquet"

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema

    def writer(self, handle: BinaryIO) -> FileWriter:
        return _ParquetWriter(handle, self.schema)


class JsonLines:
    """JSON-able records, one `json.dumps(record, sort_keys=True)` line each."""

    suffix = ".jsonl"

    def writer(self, handle: BinaryIO) -> FileWriter:
        return _LineWriter(handle)


class _ParquetWriter:
    def __init__(self, handle: BinaryIO, schema: pa.Schema) -> None:
        self.handle, self.schema = handle, schema
        self.parquet = pq.ParquetWriter(handle, schema, compression="zstd",
                                        use_compliant_nested_type=False)
        self.columns: list[list[Any]] = [[] for _ in schema.names]
        self.batches: list[pa.RecordBatch] = []
        self.batch_bytes = 0

    def add(self, row: dict[str, Any]) -> None:
        for column, field in zip(self.columns, self.schema, strict=True):
            column.append(row.get(field.name) if field.nullable else row[field.name])
        if len(self.columns[0]) >= WRITE_BATCH_ROWS:
            self._batch()

    def _batch(self) -> None:
        arrays = [pa.array(column, type=field.type)
                  for column, field in zip(self.columns, self.schema, strict=True)]
        self.columns = [[] for _ in self.schema.names]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self.batches.append(batch)
        self.batch_bytes += batch.nbytes
        if self.batch_bytes >= ROW_GROUP_BYTES:
            self._row_group()

    def _row_group(self) -> None:
        table = pa.Table.from_batches(self.batches, schema=self.schema)
        self.parquet.write_table(table, row_group_size=max(1, table.num_rows))
        self.batches, self.batch_bytes = [], 0

    def close(self) -> None:
        if self.columns[0]:
            self._batch()
        if self.batches:
            self._row_group()
        self.parquet.close()
        self.handle.close()


class _LineWriter:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle

    def add(self, record: Any) -> None:
        self.handle.write(json.dumps(record, sort_keys=True).encode("utf-8") + b"\n")

    def close(self) -> None:
        self.handle.close()


@dataclass(frozen=True)
class FileSet:
    """One output's files: `<folder>/<prefix>-NNNNN-of-NNNNN<suffix>`, written by bundles
    under `attempts` first (two outputs may share a folder if their prefixes differ)."""

    folder: str
    file_format: FileFormat
    prefix: str = "part"

    @property
    def attempts(self) -> str:
        return fs.join(self.folder, f".attempts-{self.prefix}")


class PendingFiles(NamedTuple):
    """Files the bundles wrote (`written`: their paths) that `name_files` has yet to name."""

    files: FileSet
    written: beam.PCollection


def write_bundles(elements: beam.PCollection, label: str, files: FileSet) -> PendingFiles:
    """Each bundle's elements into one file of its own, to be named by a `NameFiles` step
    (the stage shell's names every output of the stage at once)."""
    return PendingFiles(files, elements | label >> beam.ParDo(_WriteBundle(files)))


class NameFiles(beam.PTransform):
    """PBegin -> one step, after every bundle of `pending`, that names their files and
    then calls `after` with the elements of `after_input` (the stage's counts, for its
    counts file), so a stage's outputs cost it one finishing step, not one each."""

    def __init__(self, pending: Sequence[PendingFiles],
                 after: Callable[[list[Any]], None] | None = None,
                 after_input: beam.PCollection | None = None) -> None:
        super().__init__()
        self.pending, self.after, self.after_input = list(pending), after, after_input

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        sets = [p.files for p in self.pending]
        after = self.after
        extra = [] if self.after_input is None else [self.after_input]

        def finish(_: Any, *lists: list[Any]) -> None:
            for files, paths in zip(sets, lists, strict=False):
                name_files(files, paths)
            if after is not None:
                after(lists[len(sets)] if extra else [])

        return (pbegin
                | "Once" >> beam.Impulse()
                | "Finish" >> beam.Map(finish, *(beam.pvalue.AsList(p) for p in
                                                 [*(p.written for p in self.pending), *extra])))


class _WriteBundle(beam.DoFn):
    """A bundle's elements -> the path of the one file they went to (none: no file)."""

    def __init__(self, files: FileSet) -> None:
        self.files = files
        self._writer: FileWriter | None = None
        self._path = ""

    def start_bundle(self) -> None:
        self._writer = None

    def process(self, element: Any) -> None:
        if self._writer is None:
            self._path = fs.join(self.files.attempts,
                                 uuid.uuid4().hex + self.files.file_format.suffix)
            self._writer = self.files.file_format.writer(fs.create_binary(self._path))
        self._writer.add(element)

    def finish_bundle(self):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            yield GlobalWindows.windowed_value(self._path)


def name_files(files: FileSet, written: list[str]) -> list[str]:
    """Give the files the bundles wrote their final names (an empty file when there were
    none), remove what is left of the attempts, and return the final paths. Idempotent: a
    retried finishing step finds the files it moved already in place and moves the rest."""
    paths = sorted(written)
    suffix = files.file_format.suffix
    targets = [fs.join(files.folder, f"{files.prefix}-{i:05d}-of-{max(1, len(paths)):05d}"
                       f"{suffix}") for i in range(max(1, len(paths)))]
    if not paths:
        if not fs.exists(targets[0]):
            empty = fs.join(files.attempts, "empty" + suffix)
            files.file_format.writer(fs.create_binary(empty)).close()
            fs.rename([empty], targets)
    else:
        moves = [(path, target) for path, target in zip(paths, targets, strict=True)
                 if fs.exists(path) or not fs.exists(target)]
        fs.rename([path for path, _ in moves], [target for _, target in moves])
    fs.remove_tree(files.attempts)
    return targets
