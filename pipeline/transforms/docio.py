"""Reading and writing Documents (and drops, quarantine) as Parquet between stages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

from longweave.pipeline.transforms.files import FileSet, ParquetRows, PendingFiles, write_bundles
from longweave.schemas import fs
from longweave.schemas.document import DOCUMENT_SCHEMA, Document
from longweave.schemas.layout import DOCUMENTS_DIR


class ReadDocuments(beam.PTransform):
    """All Documents a finished stage wrote under `<stage>/documents/`."""

    def __init__(self, stage_dir: str) -> None:
        super().__init__()
        self.pattern = fs.join(stage_dir, DOCUMENTS_DIR, "*.parquet")

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return read_rows(pbegin, self.pattern) | "ToDocument" >> beam.Map(Document.from_row)


def read_rows(pbegin: beam.pvalue.PBegin, pattern: str) -> beam.PCollection:
    """Rows of every Parquet file matching `pattern`; no file (an empty stage) is no rows."""
    if not fs.glob(pattern):
        return pbegin | "NoFiles" >> beam.Create([])
    return pbegin | "ReadParquet" >> beam.io.ReadFromParquet(pattern)


def write_rows(rows: beam.PCollection, label: str, folder: str, schema: pa.Schema,
               prefix: str = "part") -> PendingFiles:
    """Dict rows as Parquet files `<folder>/<prefix>-*.parquet` with a fixed schema (named
    by the stage's finishing step: `files.NameFiles`)."""
    return write_bundles(rows, label, FileSet(folder, ParquetRows(schema), prefix))


def write_documents(docs: beam.PCollection, stage_dir: str, part: int = 0) -> PendingFiles:
    """Documents as `<stage>/documents/*.parquet`; `part` > 0 writes a second set of files
    beside the first (its own step labels and file prefix), so two PCollections need no
    Flatten, which the DirectRunner would hold in the driver's memory."""
    suffix = str(part) if part else ""
    return write_rows(docs | f"DocumentToRow{suffix}" >> beam.Map(Document.to_row),
                      f"WriteDocuments{suffix}", fs.join(stage_dir, DOCUMENTS_DIR),
                      DOCUMENT_SCHEMA, f"part{suffix}" if part else "part")


class ReadSelected(beam.PTransform):
    """Documents of a stage folder, one row group at a time, spread over the workers: only
    the rows whose id `wanted(id, **side)` accepts (side inputs welcome) become Documents,
    the id column being read first, so a pass that keeps few documents (dedupe's output
    step) does not pay for the text of the others."""

    def __init__(self, stage_dir: str, wanted: Callable[..., bool] | None = None,
                 **side: Any) -> None:
        super().__init__()
        self.pattern = fs.join(stage_dir, DOCUMENTS_DIR, "*.parquet")
        self.wanted, self.side = wanted, side

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        units = [(path, group) for path in sorted(fs.glob(self.pattern))
                 for group in range(row_groups(path))]
        return (pbegin
                | "RowGroups" >> beam.Create(units, reshuffle=False)
                | "Spread" >> beam.Reshuffle()
                | "ReadRows" >> beam.FlatMap(_read_unit, self.wanted, **self.side))


def _read_unit(unit, wanted, **side):  # noqa: ANN001, ANN003, ANN202
    """`read_row_group` of a `(path, row group)` unit (unannotated: Beam would read
    `**side: Any` as a type hint on the side inputs, and refuse them)."""
    return read_row_group(*unit, wanted, **side)


def row_groups(path: str) -> int:
    with fs.open_binary(path) as handle:
        return pq.ParquetFile(handle).metadata.num_row_groups


def read_row_group(path: str, group: int, wanted: Callable[..., bool] | None = None,
                   **side: Any) -> list[Document]:
    """The wanted rows of one row group of a documents file, as Documents."""
    with fs.open_binary(path) as handle:
        parquet = pq.ParquetFile(handle)
        if wanted is None:
            table = parquet.read_row_group(group)
        else:
            ids = parquet.read_row_group(group, columns=["id"]).column("id").to_pylist()
            mask = [wanted(i, **side) for i in ids]
            if not any(mask):
                return []
            table = parquet.read_row_group(group).filter(pa.array(mask))
    return [Document.from_row(row) for row in table.to_pylist()]
