"""Code repositories as long documents (the `repo` source kind).

`RepoReader` is imported on first use: collect needs only the folder names in
`select` on the driver, and the reader pulls in the import graph (networkx) and the
tree-sitter grammars, which a run over books or text never uses."""

from __future__ import annotations

from typing import Any

__all__ = ["RepoReader"]


def __getattr__(name: str) -> Any:
    if name == "RepoReader":
        from longweave.sources.repos.reader import RepoReader

        return RepoReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
