"""Reading and writing Documents (and drops, quarantine) as Parquet between stages."""

from __future__ import annotations

import apache_beam as beam
import pyarrow as pa

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


# Beam's writer keeps `record_batch_size` rows as Python objects before converting them to
# Arrow, and `row_group_buffer_size` bytes of Arrow per open file (defaults: 1,000 rows and
# 64 MB). Our rows are large (a repository's text, a segment's token list of ~36 bytes a
# token as Python ints), so 1,000 of them can be a gigabyte on one worker. Small batches and
# row groups keep a writer's memory bounded by a few rows whatever the corpus size, and
# make readers (which hold a row group at a time) as light.
WRITE_BATCH_ROWS = 16
ROW_GROUP_BYTES = 8 * 1024 * 1024


class WriteRows(beam.PTransform):
    """Write dict rows as Parquet files `<folder>/part-*.parquet` with a fixed schema."""

    def __init__(self, folder: str, schema: pa.Schema) -> None:
        super().__init__()
        self.folder = folder
        self.schema = schema

    def expand(self, rows: beam.PCollection) -> beam.pvalue.PDone:
        return rows | "WriteParquet" >> beam.io.WriteToParquet(
            fs.join(self.folder, "part"), self.schema, file_name_suffix=".parquet",
            codec="zstd", row_group_buffer_size=ROW_GROUP_BYTES,
            record_batch_size=WRITE_BATCH_ROWS)


def write_documents(docs: beam.PCollection, stage_dir: str) -> beam.pvalue.PDone:
    return (docs
            | "DocumentToRow" >> beam.Map(Document.to_row)
            | "WriteDocuments" >> WriteRows(fs.join(stage_dir, DOCUMENTS_DIR), DOCUMENT_SCHEMA))
