"""File access through Beam's `FileSystems`, so work folders may be local, gs:// or s3://.

Local paths keep a fast path (atomic `os.replace` of a whole folder); remote stores get a
per-file copy and a `_SUCCESS` marker written last, which is the commit point either way.

Beam is imported inside the functions that need it, not at module level: the schemas (and
through them the trainer-facing loader) import this module, and a trainer reading local
shards must not pay for, or even have, apache_beam. A local read (`open_binary`,
`read_bytes`, `read_json`) and `join` never touch Beam.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from apache_beam.io.filesystems import FileSystems

SUCCESS = "_SUCCESS"


def _filesystems() -> type[FileSystems]:
    """Beam's `FileSystems`, imported on first use (see the module docstring)."""
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def _uncompressed() -> str:
    """Beam's UNCOMPRESSED compression type: the bytes as stored, whatever the suffix (Beam
    would otherwise compress a `.gz` / `.zst` path a second time)."""
    from apache_beam.io.filesystem import CompressionTypes

    return CompressionTypes.UNCOMPRESSED


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def join(base: str, *parts: str) -> str:
    return _filesystems().join(base, *parts) if not is_local(base) else os.path.join(base, *parts)


def exists(path: str) -> bool:
    return _filesystems().exists(path)


def read_bytes(path: str) -> bytes:
    """The file's bytes as stored: never decompressed because of its suffix."""
    with open_binary(path) as handle:
        return handle.read()


def write_bytes(path: str, data: bytes) -> None:
    with create_binary(path) as handle:
        handle.write(data)


def create_binary(path: str) -> BinaryIO:
    """A new file to write, local (its folder made) or remote, stored as written."""
    if is_local(path):
        local = path.removeprefix("file://")
        os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
        return open(local, "wb")
    return _filesystems().create(path, compression_type=_uncompressed())


def rename(sources: list[str], targets: list[str]) -> None:
    """Move files to new names (`os.replace` locally; a copy and delete on object stores)."""
    if all(is_local(p) for p in (*sources, *targets)):
        for source, target in zip(sources, targets, strict=True):
            os.replace(source.removeprefix("file://"), target.removeprefix("file://"))
    elif sources:
        _filesystems().rename(sources, targets)


def read_json(path: str) -> Any:
    return json.loads(read_bytes(path).decode("utf-8"))


def write_json(path: str, data: Any) -> None:
    write_bytes(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def glob(pattern: str) -> list[str]:
    """Paths matching `pattern`, sorted; none is an empty list, not an error."""
    result = _filesystems().match([pattern])[0]
    return sorted(m.path for m in result.metadata_list)


def remove_tree(path: str) -> None:
    """Delete a folder; on object stores (no real folders) every object under the prefix."""
    if is_local(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    found = glob(join(path, "**"))
    if found:
        _filesystems().delete(found)


def open_binary(path: str) -> BinaryIO:
    """A readable binary file, local or remote, never decompressed behind the caller's back."""
    if is_local(path):
        return open(path.removeprefix("file://"), "rb")
    return _filesystems().open(path, compression_type=_uncompressed())


def remove_file(path: str) -> None:
    if _filesystems().exists(path):
        _filesystems().delete([path])


def publish_folder(tmp: str, final: str) -> None:
    """Move a finished temporary folder into place; `_SUCCESS` is written last."""
    remove_tree(final)
    if is_local(tmp):
        os.replace(tmp, final)
    else:
        sources = [p for p in glob(join(tmp, "**")) if not p.endswith("/")]
        targets = [final + p[len(tmp):] for p in sources]
        _filesystems().copy(sources, targets)
        remove_tree(tmp)
    write_bytes(join(final, SUCCESS), b"")
