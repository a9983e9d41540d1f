"""A Beam `FileSystem` for `memory://` paths over fsspec's in-memory store, object-store style.

Beam 2.77 registers no in-memory filesystem, so this adapter lets tests run the pipeline's
file layer against a remote-looking scheme without a network. It keeps the semantics of
gs:// and s3:// that local disks hide: there are no directories, `exists` is true only
for objects (never for a "folder" prefix), listing is by key prefix, and a recursive
delete needs the prefix to end with `/`. Defining the class registers the scheme: Beam
finds filesystems among `FileSystem` subclasses.
"""

from __future__ import annotations

import fsspec
from apache_beam.io.filesystem import (
    BeamIOError,
    CompressedFile,
    CompressionTypes,
    FileMetadata,
    FileSystem,
)

SCHEME = "memory"


def _key(path: str) -> str:
    return "/" + path[len(SCHEME) + 3:] if path.startswith(f"{SCHEME}://") else path


def _mtime(info: dict) -> float:
    created = info.get("created", 0.0)
    return created if isinstance(created, int | float) else created.timestamp()


def _path(key: str) -> str:
    return f"{SCHEME}://{key.lstrip('/')}"


class MemoryObjectStore(FileSystem):
    """`memory://bucket/key` objects kept in fsspec's process-wide memory filesystem."""

    @classmethod
    def scheme(cls) -> str:
        return SCHEME

    @property
    def _fs(self):  # noqa: ANN202 - fsspec MemoryFileSystem
        return fsspec.filesystem("memory")

    def join(self, basepath: str, *paths: str) -> str:
        return "/".join([basepath.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path: str) -> tuple[str, str]:
        head, _, tail = path.rstrip("/").rpartition("/")
        return head, tail

    def mkdirs(self, path: str) -> None:
        """Object stores have no folders to make."""

    def has_dirs(self) -> bool:
        return False

    def _list(self, dir_or_prefix: str):  # noqa: ANN202 - generator of FileMetadata
        prefix = _key(dir_or_prefix)
        for key, info in sorted(self._fs.find("/", detail=True).items()):
            key = "/" + key.lstrip("/")
            if key.startswith(prefix) and info["type"] == "file":
                yield FileMetadata(_path(key), info["size"], _mtime(info))

    def _open(self, path: str, mode: str, compression_type: str):  # noqa: ANN202
        compression_type = FileSystem._get_compression_type(path, compression_type)
        handle = self._fs.open(_key(path), mode)
        if compression_type == CompressionTypes.UNCOMPRESSED:
            return handle
        return CompressedFile(handle, compression_type=compression_type)

    def create(self, path, mime_type="application/octet-stream",  # noqa: ANN001, ANN201
               compression_type=CompressionTypes.AUTO):
        return self._open(path, "wb", compression_type)

    def open(self, path, mime_type="application/octet-stream",  # noqa: ANN001, ANN201
             compression_type=CompressionTypes.AUTO):
        return self._open(path, "rb", compression_type)

    def copy(self, source_file_names: list[str], destination_file_names: list[str]) -> None:
        for source, target in zip(source_file_names, destination_file_names, strict=True):
            self._fs.copy(_key(source), _key(target))

    def rename(self, source_file_names: list[str], destination_file_names: list[str]) -> None:
        for source, target in zip(source_file_names, destination_file_names, strict=True):
            self._fs.mv(_key(source), _key(target))

    def exists(self, path: str) -> bool:
        return self._fs.isfile(_key(path))

    def size(self, path: str) -> int:
        return self.metadata(path).size_in_bytes

    def last_updated(self, path: str) -> float:
        return self.metadata(path).last_updated_in_seconds

    def checksum(self, path: str) -> str:
        return str(self.size(path))

    def metadata(self, path: str) -> FileMetadata:
        if not self.exists(path):
            raise BeamIOError(f"Path does not exist: {path}")
        info = self._fs.info(_key(path))
        return FileMetadata(path, info["size"], _mtime(info))

    def delete(self, paths: list[str]) -> None:
        for path in paths:
            if path.endswith("/"):  # recursive, as gcsio does for a trailing slash
                found = [m.path for m in self._list(path)]
            else:
                found = [m.path for m in self.match([path])[0].metadata_list]
            for item in found:
                self._fs.rm_file(_key(item))


def clear(bucket: str) -> None:
    """Remove every object under `memory://<bucket>/`."""
    store = fsspec.filesystem("memory")
    for key in list(store.find(f"/{bucket}")):
        store.rm_file(key)


def test_object_store_semantics():
    from apache_beam.io.filesystems import FileSystems

    clear("semantics")
    with FileSystems.create("memory://semantics/a/b.txt") as handle:
        handle.write(b"hello")
    assert FileSystems.exists("memory://semantics/a/b.txt")
    assert not FileSystems.exists("memory://semantics/a")  # a prefix is not an object
    matched = FileSystems.match(["memory://semantics/**"])[0].metadata_list
    assert [m.path for m in matched] == ["memory://semantics/a/b.txt"]
    FileSystems.delete(["memory://semantics/a/"])
    assert not FileSystems.exists("memory://semantics/a/b.txt")
