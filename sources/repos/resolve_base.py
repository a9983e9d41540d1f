"""The shared resolver interface: one resolver per language turns a file's imports into
repository files (edges) and names it could not place inside the repository (external).

A resolver is built once per repository from a `RepoIndex` (every selected file's text plus
small config files such as `go.mod` or `tsconfig.json`), so it can precompute lookup
tables; then `imports(path)` answers per file. Resolvers parse, they never execute.
"""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class RepoIndex:
    """What resolvers may look at: selected files (decoded) and auxiliary config files."""

    files: dict[str, str]
    aux: dict[str, str] = field(default_factory=dict)
    include_dirs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.dirs: dict[str, list[str]] = {}
        for path in sorted(self.files):
            self.dirs.setdefault(posixpath.dirname(path), []).append(path)

    def text(self, path: str) -> str | None:
        """A selected file or an auxiliary config file, by repo-relative path."""
        found = self.files.get(path)
        return found if found is not None else self.aux.get(path)

    def exists(self, path: str) -> bool:
        return path in self.files


@dataclass
class FileImports:
    """Resolved targets (repo paths), specifiers from outside the repository (external),
    specifiers that name the repository but no file in it (unresolved, with the reason),
    and targets reached only under a build condition (`#if X`, a Go build tag)."""

    targets: set[str] = field(default_factory=set)
    external: set[str] = field(default_factory=set)
    unresolved: dict[str, str] = field(default_factory=dict)
    conditional: dict[str, str] = field(default_factory=dict)  # target -> condition

    def add(self, target: str | None, spec: str, own_path: str) -> None:
        if target is None:
            self.external.add(spec)
        elif target != own_path:
            self.targets.add(target)

    def miss(self, spec: str, reason: str) -> None:
        """An import that looks like the repository's own (relative, under its module or
        package name, an alias into it) but names no file of the checkout."""
        self.unresolved.setdefault(spec, reason)


class Resolver(ABC):
    """One language's import resolution over one repository."""

    language: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        self.index = index
        self.repo = repo

    @abstractmethod
    def imports(self, path: str) -> FileImports:
        """Imports of the file at `path` (one of `index.files` with a matching suffix)."""


def join_norm(folder: str, relative: str) -> str | None:
    """`folder/relative` normalised; None when it climbs above the repository root."""
    joined = posixpath.normpath(posixpath.join(folder, relative))
    if joined == ".." or joined.startswith("../") or posixpath.isabs(joined):
        return None
    return "" if joined == "." else joined
