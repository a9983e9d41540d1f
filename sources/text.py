"""Plain text documents: one file per document, or one JSONL line / Parquet row per document."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pyarrow.parquet as pq

from longweave.schemas.document import Document, make_document_id
from longweave.schemas.fs import open_binary
from longweave.schemas.ledger import Rejected
from longweave.schemas.meta import PATH, TextMeta, record_meta
from longweave.schemas.recipe_sources import TextOptions
from longweave.sources.base import SourceReader, files_under, safe_read


class TextReader(SourceReader):
    kind = "text"

    @classmethod
    def locate(cls, paths: list[str], options: TextOptions) -> list[str]:
        return files_under(paths, tuple(options.suffixes))

    @classmethod
    def read(cls, source: str, locator: str, options: TextOptions
             ) -> Iterator[Document | Rejected]:
        if locator.endswith(".jsonl"):
            reader = _read_jsonl(source, locator, options)
        elif locator.endswith(".parquet"):
            reader = _read_parquet(source, locator, options)
        else:
            reader = _read_plain(source, locator, options)
        return safe_read(source, locator, reader)


def _read_plain(source: str, locator: str, options: TextOptions) -> Iterator[Document]:
    with open_binary(locator) as handle:
        raw = handle.read()
    text = raw.decode("utf-8", errors=options.encoding_errors)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    yield Document(
        id=make_document_id(source, locator), source=source, kind="text", text=text,
        meta=TextMeta(path=locator, title=os.path.basename(locator)),
    )


def record_to_document(source: str, locator: str, record_key: str, record: object,
                       options: TextOptions) -> Document | Rejected:
    """One JSONL line or Parquet row to a Document; anything malformed is a `Rejected`."""
    if not isinstance(record, dict):
        return Rejected(source, locator, record_key,
                        f"TypeError: record is {type(record).__name__}, not an object")
    text = record.get(options.text_field)
    if not isinstance(text, str):
        return Rejected(source, locator, record_key,
                        f"KeyError: field {options.text_field!r} missing or not a string")
    ident = record.get(options.id_field) if options.id_field else None
    unit = f"{locator}#{ident}" if ident is not None else f"{locator}#{record_key}"
    meta: TextMeta = {**record_meta(record, options.meta_fields, {PATH}), "path": locator}
    return Document(id=make_document_id(source, unit), source=source, kind="text",
                    text=text, meta=meta)


def _read_jsonl(source: str, locator: str, options: TextOptions
                ) -> Iterator[Document | Rejected]:
    with open_binary(locator) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            key = f"line {number}"
            try:
                record = json.loads(line)
            except ValueError as error:
                yield Rejected(source, locator, key, f"JSONDecodeError: {error}")
                continue
            yield record_to_document(source, locator, key, record, options)


def _read_parquet(source: str, locator: str, options: TextOptions
                  ) -> Iterator[Document | Rejected]:
    parquet = pq.ParquetFile(open_binary(locator))
    row_number = 0
    for batch in parquet.iter_batches(batch_size=256):
        for record in batch.to_pylist():
            yield record_to_document(source, locator, f"row {row_number}", record, options)
            row_number += 1
