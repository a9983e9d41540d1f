"""Repositories given as table rows shaped like the-stack: one row per file (`repo`, `path`,
`content`), from JSONL, Parquet or a `datasets` dataset saved with `save_to_disk`.

Rows are grouped by repository (each group becomes one repository, in sorted name order);
a row that is not a usable file (missing field, path escaping the root) is a `Rejected`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from longweave.schemas.fs import open_binary
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import RepoOptions
from longweave.sources.repos.inputs import Entry

TABLE_SUFFIXES = (".jsonl", ".parquet")


def is_saved_dataset(path: str) -> bool:
    """A folder written by `datasets.Dataset.save_to_disk`."""
    return os.path.isfile(os.path.join(path, "dataset_info.json")) and os.path.isfile(
        os.path.join(path, "state.json"))


def _rows(locator: str) -> Iterator[tuple[str, object]]:
    if locator.endswith(".jsonl"):
        with open_binary(locator) as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield f"line {number}", json.loads(line)
                    except ValueError as error:
                        yield f"line {number}", error
    elif locator.endswith(".parquet"):
        import pyarrow.parquet as pq

        number = 0
        for batch in pq.ParquetFile(open_binary(locator)).iter_batches(batch_size=512):
            for row in batch.to_pylist():
                yield f"row {number}", row
                number += 1
    else:
        import datasets

        for number, row in enumerate(datasets.load_from_disk(locator)):
            yield f"row {number}", row


def table_repositories(source: str, locator: str, options: RepoOptions
                       ) -> Iterator[tuple[str, list[Entry]] | Rejected]:
    """(repo name, its files as entries) per repository; bad rows as `Rejected`."""
    groups: dict[str, dict[str, bytes]] = {}
    for key, row in _rows(locator):
        if isinstance(row, Exception):
            yield Rejected(source, locator, key, f"JSONDecodeError: {row}")
            continue
        if not isinstance(row, dict):
            yield Rejected(source, locator, key, "TypeError: row is not an object")
            continue
        repo, path, content = (row.get(options.repo_field), row.get(options.path_field),
                               row.get(options.content_field))
        if not (isinstance(repo, str) and isinstance(path, str)
                and isinstance(content, (str, bytes))):
            yield Rejected(source, locator, key,
                           f"KeyError: needs string fields {options.repo_field!r}, "
                           f"{options.path_field!r}, {options.content_field!r}")
            continue
        clean = os.path.normpath(path.replace("\\", "/")).replace(os.sep, "/")
        if clean.startswith(("/", "../")) or clean in ("..", "."):
            yield Rejected(source, locator, key, f"PathEscape: {path!r} leaves the repository")
            continue
        data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        groups.setdefault(repo, {})[clean] = data
    for repo in sorted(groups):
        files = groups[repo]
        yield repo, [Entry(path, len(data), _bytes_loader(data))
                     for path, data in sorted(files.items())]


def _bytes_loader(data: bytes):
    return lambda limit: data[:limit]
