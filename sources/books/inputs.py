"""Record streams of the book kind (whole files are read by `sources.content`).

Record streams (JSONL, Parquet, Arrow files of a saved `datasets` dataset, a hub id) yield
`(record key, record)` pairs; a line that is not JSON yields the error in place of the
record, so the caller can reject that one line and go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from longweave.schemas.fs import open_binary
from longweave.schemas.recipe_sources import HUB_PREFIX, BookOptions
from longweave.sources.content import InputError, open_content

__all__ = ["InputError", "iter_records", "wanted_fields"]


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
        with open_content(locator) as stream:
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
