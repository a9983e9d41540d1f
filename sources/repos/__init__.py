"""Code repositories as long documents (the `repo` source kind)."""

from longweave.sources.repos.reader import RepoReader

__all__ = ["RepoReader"]
