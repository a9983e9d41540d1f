"""The `repo` source kind: one document per repository, files in dependency order.

Locators (what `locate` lists and `read` takes):
- a folder (with `layout: subdirs`, each kept subfolder of a path is one repository);
- `git+<folder>@<ref>` (a plain folder with a `.git` becomes one when `options.ref` is set);
- a `.tar.gz`/`.tgz`/`.tar`/`.tar.bz2`/`.tar.xz`/`.zip` archive, local or on a remote
  store (gs://, s3://, memory://: read through FileSystems; a remote folder lists the
  archives under it);
- a `.jsonl`/`.parquet` file or a saved `datasets` folder of the-stack-shaped rows (one
  document per repository named in the rows).
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator

from longweave.schemas import fs
from longweave.schemas.document import Document, make_document_id
from longweave.schemas.ledger import Rejected
from longweave.schemas.meta import RepoMeta
from longweave.schemas.recipe_sources import RepoOptions
from longweave.sources.base import (
    SourceReader,
    expand_globs,
    inside_root,
    refusal_locator,
    safe_read,
)
from longweave.sources.repos.graph import build_graph, dependency_order, graph_stats
from longweave.sources.repos.inputs import (
    ARCHIVE_SUFFIXES,
    GIT_PREFIX,
    SPOOL_BYTES,
    Entry,
    git_archive,
    link_escapes,
    open_archive,
    repo_name,
    split_git_locator,
    strip_common_top,
    walk_directory,
    walk_tar,
    walk_zip,
)
from longweave.sources.repos.render import dependency_edges, render
from longweave.sources.repos.resolve import language_of, resolve_repository
from longweave.sources.repos.resolve_base import RepoIndex
from longweave.sources.repos.select import Selector, is_aux_config
from longweave.sources.repos.tables import TABLE_SUFFIXES, is_saved_dataset, table_repositories

__all__ = ["RepoReader"]

MAX_REFUSALS_SHOWN = 5  # size refusals named in an EmptyRepository error (meta lists more)


class RepoReader(SourceReader):
    kind = "repo"

    @classmethod
    def locate(cls, paths: list[str], options: RepoOptions) -> list[str]:
        repos: list[str] = []
        for path in expand_globs(paths):
            if not fs.is_local(path):
                repos.extend(_remote_repos(path))
            elif path.startswith(GIT_PREFIX):
                has_ref = "@" in path[len(GIT_PREFIX):]
                repos.append(path if has_ref or not options.ref else f"{path}@{options.ref}")
            elif not os.path.isdir(path) or is_saved_dataset(path):
                repos.append(path)
            elif options.ref and os.path.exists(os.path.join(path, ".git")):
                repos.append(f"{GIT_PREFIX}{path}@{options.ref}")
            elif options.layout == "single":
                repos.append(path)
            else:
                repos.extend(_subdir_repos(path, options))
        return sorted(set(repos))

    @classmethod
    def read(cls, source: str, locator: str, options: RepoOptions
             ) -> Iterator[Document | Rejected]:
        return safe_read(source, locator, _read(source, locator, options))


def _remote_repos(path: str) -> list[str]:
    """A remote archive or table file is one locator; a remote folder (a key prefix) is
    every archive under it. A prefix with none stays as it is, so `read` rejects it by
    name instead of it vanishing."""
    if path.endswith(ARCHIVE_SUFFIXES + TABLE_SUFFIXES):
        return [path]
    found = [p for p in fs.glob(path.rstrip("/") + "/**") if p.endswith(ARCHIVE_SUFFIXES)]
    return found or [path]


def _subdir_repos(path: str, options: RepoOptions) -> list[str]:
    found = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.islink(full) and os.path.isdir(full) and not inside_root(full, path):
            found.append(refusal_locator(full, os.path.realpath(path)))  # a ledger trace
            continue
        if not os.path.isdir(full) or os.path.islink(full) or name.startswith((".", "__")):
            continue
        if (options.include and name not in options.include) or name in options.exclude:
            continue
        found.append(full)
    return found


def _read(source: str, locator: str, options: RepoOptions) -> Iterator[Document | Rejected]:
    if locator.endswith(TABLE_SUFFIXES) or (fs.is_local(locator) and os.path.isdir(locator)
                                            and is_saved_dataset(locator)):
        for item in table_repositories(source, locator, options):
            if isinstance(item, Rejected):
                yield item
            else:
                name, entries = item
                yield build_document(source, f"{locator}#{name}", name, entries, options,
                                     flat=True, input_kind="table")
        return
    name = repo_name(locator)
    if not fs.is_local(locator) and not locator.endswith(ARCHIVE_SUFFIXES):
        yield Rejected(source, locator, "*",
                       "UnknownInput: a remote repository must be an archive "
                       f"({', '.join(ARCHIVE_SUFFIXES)}) or a table file; no archive found "
                       "under this prefix (folders and git refs are read from local disk)")
    elif locator.startswith(GIT_PREFIX):
        path, ref = split_git_locator(locator)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            git_archive(path, ref, spool)
            with tarfile.open(fileobj=spool, mode="r:") as archive:
                entries = walk_tar(archive, options.max_archive_members,
                                   options.max_archive_bytes)
                yield build_document(source, locator, name, entries, options, flat=True,
                                     input_kind="git", extra={"ref": ref})
    elif locator.endswith(".zip"):
        with open_archive(locator) as handle, zipfile.ZipFile(handle) as archive:
            entries = strip_common_top(list(walk_zip(
                archive, options.max_archive_members, options.max_archive_bytes)))
            yield build_document(source, locator, name, entries, options, flat=True,
                                 input_kind="archive")
    elif locator.endswith(ARCHIVE_SUFFIXES):
        with open_archive(locator) as handle, \
                tarfile.open(fileobj=handle, mode="r:*") as archive:
            entries = strip_common_top(list(walk_tar(
                archive, options.max_archive_members, options.max_archive_bytes)))
            yield build_document(source, locator, name, entries, options, flat=True,
                                 input_kind="archive")
    elif os.path.isdir(locator):
        yield build_document(source, locator, name, None, options, flat=False,
                             input_kind="directory")
    else:
        yield Rejected(source, locator, "*",
                       "UnknownInput: not a folder, git locator, archive or table file")


def build_document(source: str, locator: str, name: str, entries: Iterable[Entry] | None,
                   options: RepoOptions, *, flat: bool, input_kind: str,
                   extra: dict[str, object] | None = None) -> Document | Rejected:
    """Select, resolve, order and render one repository (`entries=None`: walk `locator`)."""
    selector = Selector(tuple(options.suffixes), options.max_file_bytes,
                        options.respect_gitignore)
    if entries is None:
        entries = walk_directory(locator, selector)
    else:
        entries = sorted(entries, key=lambda e: e.path)
        for entry in entries:
            if entry.path.endswith(".gitignore") and entry.link_target is None:
                folder = os.path.dirname(entry.path) if "/" in entry.path else ""
                selector.add_gitignore(folder, entry.load(1_000_000).decode("utf-8", "replace"))
    texts, aux, lossy = _select(entries, selector, options, flat)
    if not texts:
        refusals = sorted(selector.size_refusals.items())
        shown = "; ".join(f"{path}: {detail}" for path, detail in refusals[:MAX_REFUSALS_SHOWN])
        more = f" and {len(refusals) - MAX_REFUSALS_SHOWN} more" \
            if len(refusals) > MAX_REFUSALS_SHOWN else ""
        return Rejected(source, locator, "*", "EmptyRepository: no code files selected "
                        f"(skipped: {dict(sorted(selector.counts.items()))})"
                        + (f"; refused by size: {shown}{more}" if refusals else ""))
    index = RepoIndex(texts, aux, tuple(options.include_dirs))
    imports, errors = resolve_repository(index, name)
    graph = build_graph(sorted(texts), imports)
    components = dependency_order(graph)
    order = [path for members in components for path in members]
    rendered = render(name, components, texts, options.repo_header, options.file_header)
    distances = dependency_edges(graph, rendered, order, options.max_distances_listed)
    external = Counter(spec for found in imports.values() for spec in found.external)
    cap = options.max_skipped_listed
    unresolved = {f"{path} -> {spec}": reason for path in sorted(imports)
                  for spec, reason in sorted(imports[path].unresolved.items())}
    conditional = {f"{path} -> {target}": condition for path in sorted(imports)
                   for target, condition in sorted(imports[path].conditional.items())
                   if graph.has_edge(path, target)}
    skipped = dict(sorted(selector.skipped.items())[: options.max_skipped_listed])
    meta: RepoMeta = {
        "repo": name, "path": locator, "input": input_kind, "files": len(order),
        "languages": dict(sorted(Counter(language_of(p) or "other" for p in order).items())),
        "order": "dependencies-first",
        "graph": {**graph_stats(graph, imports), "edge_chars": distances["summary"]},
        "components": rendered.components,
        "dependency_edges": distances["edges"],
        "dependency_edges_truncated": distances["edges_truncated"],
        "external_imports": dict(sorted(external.items())[:cap]),
        "unresolved_imports": dict(list(unresolved.items())[:cap]),
        "conditional_edges": dict(list(conditional.items())[:cap]),
        "skipped": skipped,
        "skipped_counts": dict(sorted(selector.counts.items())),
        "skipped_truncated": len(selector.skipped) > len(skipped),
        "size_refusals": dict(sorted(selector.size_refusals.items())[:cap]),
        "lossy_decoded": sorted(lossy),
        "resolve_errors": errors,
        **(extra or {}),
    }
    return Document(id=make_document_id(source, locator), source=source, kind="repo",
                    text=rendered.text, spans=rendered.spans, meta=meta)


def _select(entries: Iterable[Entry], selector: Selector, options: RepoOptions, flat: bool
            ) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Selected file texts, auxiliary config texts and lossily decoded paths."""
    texts: dict[str, str] = {}
    aux: dict[str, str] = {}
    lossy: list[str] = []
    total = 0
    for entry in entries:
        path = entry.path
        if flat and (pruned := selector.pruned_ancestor(path)):
            selector.skip(path, pruned[1])
            continue
        if entry.link_target is not None:
            selector.skip(path, _link_reason(path, entry.link_target))
            continue
        if is_aux_config(path) and entry.size <= options.max_file_bytes and (
                not selector.gitignored(path)):
            aux[path] = entry.load(options.max_file_bytes).decode("utf-8", "replace")
        reason = selector.path_reason(path, entry.size)
        detail = None
        if reason == "oversize":
            detail = f"{entry.size} bytes > cap max_file_bytes {options.max_file_bytes}"
        elif reason is None and len(texts) >= options.max_files:
            reason, detail = "file-cap", f"cap max_files {options.max_files} already selected"
        elif reason is None and total + entry.size > options.max_repo_bytes:
            reason = "repo-size-cap"
            detail = (f"{entry.size} bytes would bring the selection to "
                      f"{total + entry.size} > cap max_repo_bytes {options.max_repo_bytes}")
        if reason:
            selector.skip(path, reason, detail)
            continue
        data = entry.load(options.max_file_bytes + 1)
        if len(data) > options.max_file_bytes:  # the declared size was wrong (a lying header)
            selector.skip(path, "oversize", f"declared {entry.size} bytes but holds more "
                                            f"than cap max_file_bytes {options.max_file_bytes}")
            continue
        text, reason, was_lossy = selector.decode(path, data)
        if text is None:
            selector.skip(path, reason or "undecodable")
            continue
        texts[path] = text
        total += len(data)
        if was_lossy:
            lossy.append(path)
    return texts, aux, lossy


def _link_reason(path: str, target: str) -> str:
    if target == "<path escapes root>":
        return "path-escapes-root"
    return "symlink-outside-root" if link_escapes(path, target) else "symlink"
