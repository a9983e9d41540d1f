"""Raw inputs of the book kind: capped (decompressed) file bytes and record streams.

Record streams (JSONL, Parquet, Arrow files of a saved `datasets` dataset, a hub id) yield
`(record key, record)` pairs; a line that is not JSON yields the error in place of the
record, so the caller can reject that one line and go on.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from longweave.schemas.fs import open_binary
from longweave.schemas.recipe_sources import HUB_PREFIX, BookOptions

_CHUNK = 1 << 20


class InputError(ValueError):
    """A file that cannot be read as a whole; the message starts with the error kind."""




def open_decompressed(path: str) -> BinaryIO:
    """A binary stream of the file's content, decompressing `.gz` and `.zst` by suffix."""
    handle = open_binary(path)
    if path.endswith(".gz"):
        return gzip.GzipFile(fileobj=handle)  # type: ignore[return-value]
    if path.endswith((".zst", ".zstd")):
        return io.BufferedReader(_ZstdReader(handle), _CHUNK)
    return handle


class _ZstdReader(io.RawIOBase):
    """Zstandard frames in sequence; unlike `stream_reader`, a cut-off frame is an EOFError."""

    def __init__(self, handle: BinaryIO) -> None:
        import zstandard

        self._zstandard = zstandard
        self._handle = handle
        self._decoder = zstandard.ZstdDecompressor().decompressobj()
        self._pending = b""
        self._exhausted = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._exhausted:
            chunk = self._handle.read(_CHUNK)
            if not chunk:
                self._exhausted = True
                if not self._decoder.eof:
                    raise EOFError("zstd stream ended before the end of its frame")
                break
            if self._decoder.eof:  # a further frame follows the finished one
                self._decoder = self._zstandard.ZstdDecompressor().decompressobj()
            self._pending = self._decode(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _decode(self, chunk: bytes) -> bytes:
        out = self._decoder.decompress(chunk)
        while self._decoder.eof and self._decoder.unused_data:
            rest = self._decoder.unused_data
            self._decoder = self._zstandard.ZstdDecompressor().decompressobj()
            out += self._decoder.decompress(rest)
        return out

    def close(self) -> None:
        self._handle.close()
        super().close()


def read_capped(path: str, max_bytes: int) -> bytes:
    """The whole (decompressed) file; a corrupt or over-long file raises `InputError`."""
    chunks: list[bytes] = []
    total = 0
    try:
        with open_decompressed(path) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise InputError(f"FileTooLarge: {path} expands past {max_bytes} bytes")
                chunks.append(chunk)
    except InputError:
        raise
    except EOFError as error:
        raise InputError(f"TruncatedFile: {path} ends early ({error})") from None
    except (OSError, ValueError) as error:
        if isinstance(error, FileNotFoundError):
            raise InputError(f"MissingFile: {path}") from None
        raise InputError(f"CorruptFile: {path}: {type(error).__name__}: {error}") from None
    return b"".join(chunks)


def wanted_fields(options: BookOptions) -> list[str]:
    fields = [options.text_field, options.id_field, options.title_field, options.author_field,
              *options.meta_fields]
    return sorted({f for f in fields if f})


def iter_records(locator: str, options: BookOptions) -> Iterator[tuple[str, Any]]:
    """(record key, record dict or the error that replaced it) for a record locator."""
    if locator.startswith(HUB_PREFIX):
        yield from _hub_records(locator[len(HUB_PREFIX):], options)
    elif locator.endswith(".parquet"):
        yield from _parquet_records(locator, options)
    elif locator.endswith(".arrow"):
        yield from _arrow_records(locator, options)
    else:
        yield from _jsonl_records(locator, options)


def _jsonl_records(locator: str, options: BookOptions) -> Iterator[tuple[str, Any]]:
    try:
        with open_decompressed(locator) as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    yield f"line {number}", json.loads(line)
                except ValueError as error:
                    yield f"line {number}", InputError(f"JSONDecodeError: {error}")
    except EOFError as error:
        raise InputError(f"TruncatedFile: {locator} ends early ({error})") from None


def _parquet_records(locator: str, options: BookOptions) -> Iterator[tuple[str, Any]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(open_binary(locator))
    columns = [f for f in wanted_fields(options) if f in parquet.schema_arrow.names]
    row = 0
    for batch in parquet.iter_batches(batch_size=64, columns=columns):
        for record in batch.to_pylist():
            yield f"row {row}", record
            row += 1


def _arrow_records(locator: str, options: BookOptions) -> Iterator[tuple[str, Any]]:
    """An Arrow file of a `datasets` dataset (e.g. written by `save_to_disk`), memory-mapped."""
    from datasets import Dataset

    dataset = Dataset.from_file(locator)
    columns = [f for f in wanted_fields(options) if f in dataset.column_names]
    dataset = dataset.select_columns(columns)
    for row, record in enumerate(dataset):
        yield f"row {row}", record


def _hub_records(dataset_id: str, options: BookOptions) -> Iterator[tuple[str, Any]]:
    """A dataset by hub id or local folder, through `datasets.load_dataset`."""
    from datasets import load_dataset

    dataset = load_dataset(dataset_id, name=options.hub_config, split=options.hub_split,
                           streaming=options.hub_streaming)
    for row, record in enumerate(dataset):
        yield f"row {row}", record
