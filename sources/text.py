"""Plain text documents: one file per document, or one JSONL line / Parquet row per document.

Files are read by what their bytes are (`sources.content`), not by what their name says.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Iterator

import pyarrow.parquet as pq

from longweave.schemas.document import Document, make_document_id
from longweave.schemas.fs import open_binary
from longweave.schemas.ledger import Rejected
from longweave.schemas.meta import PATH, TextMeta, record_meta
from longweave.schemas.recipe_sources import TextOptions
from longweave.sources.base import SourceReader, files_under, safe_read
from longweave.sources.content import (
    Content,
    InputError,
    ZipLimits,
    inner_name,
    not_text_error,
    open_content,
    open_zip,
    read_content,
    sniff,
    unicode_codec,
)

MAX_TEXT_BYTES = 256 * 1024 * 1024  # a plain file's cap after decompression (zip bombs)
ZIP_LIMITS = ZipLimits(max_entries=10_000, max_expanded_bytes=MAX_TEXT_BYTES)


class TextReader(SourceReader):
    """Plain files and JSONL by content: compressed files are undone by their magic bytes,
    a zip yields its text members, and a file that is not text is rejected, not decoded."""

    kind = "text"

    @classmethod
    def locate(cls, paths: list[str], options: TextOptions) -> list[str]:
        return files_under(paths, tuple(options.suffixes))

    @classmethod
    def read(cls, source: str, locator: str, options: TextOptions
             ) -> Iterator[Document | Rejected]:
        if locator.endswith(".parquet"):
            reader = _read_parquet(source, locator, options)
        elif inner_name(locator).endswith(".jsonl"):
            reader = _read_jsonl(source, locator, options)
        else:
            reader = _read_plain(source, locator, options)
        return safe_read(source, locator, _rejecting_input_errors(source, locator, reader))


def _rejecting_input_errors(source: str, locator: str, reader: Iterator[Document | Rejected]
                            ) -> Iterator[Document | Rejected]:
    """A file-level failure (corrupt, truncated, not text) is one clear `Rejected`."""
    try:
        yield from reader
    except InputError as error:
        yield Rejected(source=source, locator=locator, record="file", error=str(error))


def _read_plain(source: str, locator: str, options: TextOptions
                ) -> Iterator[Document | Rejected]:
    content = read_content(locator, MAX_TEXT_BYTES)
    if content.kind == "zip":
        yield from _read_zip(source, locator, content, options)
    elif content.kind != "text":
        yield Rejected(source, locator, "file", not_text_error(locator, content, "text"))
    else:
        yield _plain_document(source, locator, None, content.data, options, content.meta())


def _plain_document(source: str, locator: str, member: str | None, data: bytes,
                    options: TextOptions, extra: TextMeta) -> Document:
    text = data.decode(unicode_codec(data), errors=options.encoding_errors)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    unit = locator if member is None else f"{locator}#{member}"
    meta: TextMeta = {"path": locator, "title": os.path.basename(member or locator), **extra}
    if member is not None:
        meta["record"] = member
    return Document(id=make_document_id(source, unit), source=source, kind="text", text=text,
                    meta=meta)


def _read_zip(source: str, locator: str, content: Content, options: TextOptions
              ) -> Iterator[Document | Rejected]:
    """Each member with one of the source's suffixes, read like a file of that name; other
    members (and members that are not text) are listed in one `Rejected`."""
    archive = open_zip(content.data, locator, ZIP_LIMITS)
    layers = {"compression": [*content.layers, "zip"]}
    suffixes = tuple(s for s in options.suffixes if s != ".parquet")
    skipped: list[str] = []
    for name in archive.files():
        data = archive.read(name)
        kind, _ = sniff(data)
        if kind != "text" or not name.endswith(suffixes):
            skipped.append(f"{name} ({kind})")
        elif name.endswith(".jsonl"):
            yield from _jsonl_records(source, locator, io.BytesIO(data), options,
                                      prefix=f"{name} ")
        else:
            yield _plain_document(source, locator, name, data, options, layers)
    if skipped:
        yield Rejected(source, locator, "file",
                       f"NotText: {len(skipped)} zip members are not text of suffixes "
                       f"{list(suffixes)}: " + ", ".join(skipped[:20]))


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
    with open_content(locator, "JSON lines") as handle:
        yield from _jsonl_records(source, locator, handle, options)


def _jsonl_records(source: str, locator: str, lines: Iterable[bytes], options: TextOptions,
                   prefix: str = "") -> Iterator[Document | Rejected]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        key = f"{prefix}line {number}"
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
