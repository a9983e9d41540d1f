"""Where a repository's files come from: a folder, a git ref, or an archive.

Every input becomes the same thing: a name plus a stream of `Entry` (relative posix path,
size, symlink target, a bounded loader), so selection and resolution never care about the
container. Archives are read in memory, never extracted, so a hostile member name cannot
write anywhere; symlinks are reported, never followed. An archive on a remote store
(gs://, s3://, memory://) is read through FileSystems (`open_archive`), so a remote worker
reads it like a local one; folders and git refs exist only on local disk.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from longweave.schemas import fs
from longweave.sources.repos.select import Selector

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz", ".zip")
GIT_PREFIX = "git+"


class InputError(ValueError):
    """An input that cannot be opened as a repository (bad archive, unknown git ref)."""


@dataclass(frozen=True)
class Entry:
    """One regular file or symlink of a repository; `load(limit)` reads at most limit bytes."""

    path: str
    size: int
    load: Callable[[int], bytes]
    link_target: str | None = None


def split_git_locator(locator: str) -> tuple[str, str]:
    """`git+/path/to/repo@ref` -> (path, ref); the ref defaults to HEAD."""
    body = locator[len(GIT_PREFIX):]
    path, sep, ref = body.rpartition("@")
    if not sep or not path:
        return body, "HEAD"
    return path, ref or "HEAD"


def repo_name(locator: str) -> str:
    """Human name of a repository input: its folder or archive name without suffixes."""
    if locator.startswith(GIT_PREFIX):
        path, ref = split_git_locator(locator)
        return f"{os.path.basename(os.path.normpath(path))}@{ref}"
    base = os.path.basename(os.path.normpath(locator))
    for suffix in ARCHIVE_SUFFIXES:
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def link_escapes(path: str, target: str) -> bool:
    """Would symlink `path` -> `target` point outside the repository root?"""
    if posixpath.isabs(target) or os.path.isabs(target):
        return True
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    return joined == ".." or joined.startswith("../")


def _bad_member_name(name: str) -> bool:
    """Absolute paths, drive letters and `..` segments would escape the root when extracted."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in name.replace("\\", "/").split("/")


def walk_directory(root: str, selector: Selector) -> Iterator[Entry]:
    """Top-down walk that reads each `.gitignore` before descending and never follows links."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        if ".gitignore" in filenames:
            with open(os.path.join(dirpath, ".gitignore"), "rb") as handle:
                selector.add_gitignore(rel_dir, handle.read(1_000_000).decode("utf-8", "replace"))
        kept = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                yield _link_entry(rel, full)
            elif reason := selector.dir_reason(rel):
                selector.skip(rel + "/", reason)
            else:
                kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if os.path.islink(full):
                yield _link_entry(rel, full)
                continue
            try:
                info = os.stat(full)
            except OSError:
                selector.skip(rel, "unreadable")
                continue
            if not os.path.isfile(full):
                selector.skip(rel, "not-a-regular-file")
                continue
            yield Entry(rel, info.st_size, _file_loader(full))


def _link_entry(rel: str, full: str) -> Entry:
    return Entry(rel, 0, lambda limit: b"", link_target=os.readlink(full))


def _file_loader(full: str) -> Callable[[int], bytes]:
    def load(limit: int) -> bytes:
        with open(full, "rb") as handle:
            return handle.read(limit)
    return load


def walk_tar(archive: tarfile.TarFile, max_members: int, max_bytes: int) -> Iterator[Entry]:
    """Members of an opened tar as entries, refusing escapes and archives over the caps."""
    members = archive.getmembers()
    _check_caps([(m.name, m.size) for m in members], max_members, max_bytes)
    for member in members:
        if member.isdir():
            continue
        name = member.name.removeprefix("./")
        if _bad_member_name(name):
            yield Entry(name, 0, lambda limit: b"", link_target="<path escapes root>")
        elif member.issym() or member.islnk():
            yield Entry(name, 0, lambda limit: b"", link_target=member.linkname)
        elif member.isfile():
            yield Entry(name, member.size, _tar_loader(archive, member))


def _tar_loader(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Callable[[int], bytes]:
    def load(limit: int) -> bytes:
        handle = archive.extractfile(member)
        return handle.read(limit) if handle else b""
    return load


def walk_zip(archive: zipfile.ZipFile, max_members: int, max_bytes: int) -> Iterator[Entry]:
    infos = archive.infolist()
    _check_caps([(i.filename, i.file_size) for i in infos], max_members, max_bytes)
    for info in infos:
        if info.is_dir():
            continue
        name = info.filename
        mode = info.external_attr >> 16
        if _bad_member_name(name):
            yield Entry(name, 0, lambda limit: b"", link_target="<path escapes root>")
        elif (mode & 0o170000) == 0o120000:  # a symlink stored by Unix zip tools
            yield Entry(name, 0, lambda limit: b"",
                        link_target=archive.read(info)[:4096].decode("utf-8", "replace"))
        else:
            yield Entry(name, info.file_size, _zip_loader(archive, info))


def _zip_loader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[int], bytes]:
    def load(limit: int) -> bytes:
        with archive.open(info) as handle:  # bounded read: a lying header cannot blow up
            return handle.read(limit)
    return load


def _check_caps(sizes: list[tuple[str, int]], max_members: int, max_bytes: int) -> None:
    """Refuse an archive over the caps by its declared sizes, naming the cap (the option to
    raise) and the largest member, so a zip bomb is traced to the member that blew it up."""
    if len(sizes) > max_members:
        raise InputError(f"ArchiveTooLarge: {len(sizes)} members > cap max_archive_members "
                         f"{max_members}")
    total = sum(size for _, size in sizes)
    if total > max_bytes:
        name, size = max(sizes, key=lambda item: (item[1], item[0]))
        raise InputError(f"ArchiveTooLarge: {total} bytes uncompressed > cap "
                         f"max_archive_bytes {max_bytes}; largest member {name!r}: "
                         f"{size} bytes")


SPOOL_BYTES = 64 << 20  # a remote archive is held in memory up to this, then on local disk


@contextmanager
def open_archive(locator: str) -> Iterator[BinaryIO]:
    """A seekable binary handle on an archive, local or remote.

    zip and tar need to seek, which object-store streams cannot be relied on to do; a
    remote archive is copied into a spooled temporary file first (bounded memory).
    """
    if fs.is_local(locator):
        with open(locator, "rb") as handle:
            yield handle
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        with fs.open_binary(locator) as remote:
            shutil.copyfileobj(remote, spool, 1 << 20)
        spool.seek(0)
        yield spool  # type: ignore[misc] - a SpooledTemporaryFile is a binary file


def strip_common_top(entries: list[Entry]) -> list[Entry]:
    """Archives usually wrap everything in `<name>-<version>/`; drop that one shared folder."""
    tops = {e.path.split("/", 1)[0] for e in entries}
    if len(tops) != 1 or any("/" not in e.path for e in entries):
        return entries
    cut = len(next(iter(tops))) + 1
    return [Entry(e.path[cut:], e.size, e.load, e.link_target) for e in entries]


def git_archive(path: str, ref: str, spool: tempfile.SpooledTemporaryFile) -> None:
    """Write `git archive` of `ref` into `spool` (read-only on the repository)."""
    if ref.startswith("-"):
        raise InputError(f"GitRefError: refusing ref {ref!r}")
    result = subprocess.run(
        ["git", "-C", path, "archive", "--format=tar", ref],
        stdout=spool, stderr=subprocess.PIPE, check=False, timeout=600,
    )
    if result.returncode != 0:
        raise InputError(f"GitRefError: git archive {ref!r} in {path}: "
                         f"{result.stderr.decode('utf-8', 'replace').strip()}")
    spool.seek(0)
