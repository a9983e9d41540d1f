"""The contract every source kind implements, so collect can run any of them in Beam.

A source kind splits its inputs into *locators* (cheap to list on the driver: a file, a
repository folder, an archive) and reads one locator into Documents on a worker. A record
that cannot be read becomes a `Rejected` naming the file and the record; the rest goes on.
"""

from __future__ import annotations

import glob
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import ClassVar

from pydantic import BaseModel

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected


class SourceReader(ABC):
    """One source kind: how to list its work units and how to read one into Documents.

    `options` is the kind's model from `schemas.recipe_sources.SOURCE_OPTIONS`.
    """

    kind: ClassVar[str]

    @classmethod
    @abstractmethod
    def locate(cls, paths: list[str], options: BaseModel) -> list[str]:
        """List the work units (sorted, deduplicated) named by the recipe's `paths`."""

    @classmethod
    @abstractmethod
    def read(cls, source: str, locator: str, options: BaseModel) -> Iterator[Document | Rejected]:
        """Read one work unit. Must not raise for bad content: yield `Rejected` instead.

        Return through `safe_read`, which also rejects the refusal locators of `locate`.
        """


def expand_globs(paths: Iterable[str]) -> list[str]:
    """Expand shell globs; plain paths pass through. Sorted so the listing is deterministic.

    Remote paths (gs://, s3://, ...) are matched through Beam's FileSystems.
    """
    from longweave.schemas import fs

    found: set[str] = set()
    for path in paths:
        if not fs.is_local(path):
            found.update(fs.glob(path) if glob.has_magic(path) else [path])
        elif glob.has_magic(path):
            found.update(glob.glob(path, recursive=True))
        else:
            found.add(path)
    return sorted(found)


REFUSED_PREFIX = "refused-input:"  # a listed locator that must not be read (see `files_under`)


def files_under(paths: Iterable[str], suffixes: tuple[str, ...]) -> list[str]:
    """Every file with one of `suffixes` named by `paths` (files, folders or globs), sorted.

    One symlink policy for every reader that lists files here: a file or folder found
    inside a named folder or glob whose resolved target leaves that folder (the glob's
    fixed prefix) is not read. It is still listed, as a refusal locator, so `safe_read`
    turns it into a `Rejected` naming the link: untrusted input must not pull a file from
    outside the input root into training text, and a skipped link must not vanish. A path
    named explicitly (not through a folder or glob) is the user's choice and is followed.
    """
    from longweave.schemas import fs

    out: set[str] = set()
    refused: dict[str, str] = {}
    for named in paths:
        if not fs.is_local(named):
            for path in expand_globs([named]):
                matches = (fs.glob(path.rstrip("/") + "/**") if not path.endswith(suffixes)
                           else [path])
                out.update(m for m in matches if m.endswith(suffixes))
            continue
        magic = glob.has_magic(named)
        root = os.path.realpath(_glob_root(named) if magic else named)
        for path in expand_globs([named]):
            if magic and not inside_root(path, root):
                if os.path.isdir(path) or path.endswith(suffixes) or not suffixes:
                    refused[path] = refusal_locator(path, root)
            elif os.path.isdir(path):
                _walk(path, root, suffixes, out, refused)
            elif path.endswith(suffixes) or not suffixes:
                out.add(path)
    out.update(locator for path, locator in refused.items() if path not in out)
    return sorted(out)


def _walk(folder: str, root: str, suffixes: tuple[str, ...], out: set[str],
          refused: dict[str, str]) -> None:
    """Files under `folder`; links that resolve outside `root` go to `refused`.

    Linked folders are never descended (no loops, no double reads): one inside the root
    is reached through its real path, one outside is refused as a whole.
    """
    for base, dirs, files in os.walk(folder):
        dirs.sort()
        for name in dirs:
            full = os.path.join(base, name)
            if os.path.islink(full) and not inside_root(full, root):
                refused[full] = refusal_locator(full, root)
        for name in files:
            if not name.endswith(suffixes):
                continue
            full = os.path.join(base, name)
            if os.path.islink(full) and not inside_root(full, root):
                refused[full] = refusal_locator(full, root)
            else:
                out.add(full)


def _glob_root(pattern: str) -> str:
    """The folder a glob cannot leave: its components before the first wildcard."""
    fixed: list[str] = []
    for part in pattern.split(os.sep):
        if glob.has_magic(part):
            break
        fixed.append(part)
    root = os.sep.join(fixed)
    return root if root or not pattern.startswith(os.sep) else os.sep


def inside_root(path: str, root: str) -> bool:
    """Does `path`, every link resolved, stay under the folder `root` (also resolved)?"""
    target = os.path.realpath(path)
    root = os.path.realpath(root)
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


def refusal_locator(path: str, root: str) -> str:
    """A locator that `safe_read` rejects as a symlink leaving `root`, naming its target."""
    return REFUSED_PREFIX + json.dumps(
        {"path": path, "target": os.path.realpath(path), "root": root,
         "reason": "SymlinkOutsideRoot"}, sort_keys=True)


def refused_input(source: str, locator: str) -> Rejected | None:
    """The `Rejected` for a refusal locator from `files_under`; None for a readable one."""
    if not locator.startswith(REFUSED_PREFIX):
        return None
    facts = json.loads(locator[len(REFUSED_PREFIX):])
    return Rejected(source=source, locator=facts["path"], record="*",
                    error=f"{facts['reason']}: {facts['path']} resolves to {facts['target']}, "
                          f"outside the input root {facts['root']}; not read")


def safe_read(source: str, locator: str, reader: Iterator[Document | Rejected]
              ) -> Iterator[Document | Rejected]:
    """Run a reader, turning an unexpected exception into one `Rejected` for its locator.

    Readers reject bad records themselves; this is the net for the errors they did not
    foresee, so one bad file never stops the job. A refusal locator (a symlink out of the
    input root, see `files_under`) is rejected here without running the reader at all.
    """
    refusal = refused_input(source, locator)
    if refusal is not None:  # checked before the reader starts, so nothing is opened
        yield refusal
        return
    try:
        yield from reader
    except Exception as error:  # noqa: BLE001 - any failure of one input is quarantined
        yield Rejected(source=source, locator=locator, record="*",
                       error=f"{type(error).__name__}: {error}")
