"""File access through Beam's `FileSystems`, so work folders may be local, gs:// or s3://.

Local paths keep a fast path (atomic `os.replace` of a whole folder); remote stores get a
per-file copy and a `_SUCCESS` marker written last, which is the commit point either way.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

SUCCESS = "_SUCCESS"


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def join(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts) if not is_local(base) else os.path.join(base, *parts)


def exists(path: str) -> bool:
    return FileSystems.exists(path)


def read_bytes(path: str) -> bytes:
    """The file's bytes as stored: never decompressed because of its suffix."""
    with open_binary(path) as handle:
        return handle.read()


def write_bytes(path: str, data: bytes) -> None:
    if is_local(path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # UNCOMPRESSED: Beam would otherwise compress a `.gz` / `.zst` path a second time
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(data)


def read_json(path: str) -> Any:
    return json.loads(read_bytes(path).decode("utf-8"))


def write_json(path: str, data: Any) -> None:
    write_bytes(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def glob(pattern: str) -> list[str]:
    """Paths matching `pattern`, sorted; none is an empty list, not an error."""
    result = FileSystems.match([pattern])[0]
    return sorted(m.path for m in result.metadata_list)


def remove_tree(path: str) -> None:
    """Delete a folder; on object stores (no real folders) every object under the prefix."""
    if is_local(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    found = glob(join(path, "**"))
    if found:
        FileSystems.delete(found)


def open_binary(path: str) -> BinaryIO:
    """A readable binary file, local or remote, never decompressed behind the caller's back."""
    if is_local(path):
        return open(path.removeprefix("file://"), "rb")
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def remove_file(path: str) -> None:
    if FileSystems.exists(path):
        FileSystems.delete([path])


def publish_folder(tmp: str, final: str) -> None:
    """Move a finished temporary folder into place; `_SUCCESS` is written last."""
    remove_tree(final)
    if is_local(tmp):
        os.replace(tmp, final)
    else:
        sources = [p for p in glob(join(tmp, "**")) if not p.endswith("/")]
        targets = [final + p[len(tmp):] for p in sources]
        FileSystems.copy(sources, targets)
        remove_tree(tmp)
    write_bytes(join(final, SUCCESS), b"")
