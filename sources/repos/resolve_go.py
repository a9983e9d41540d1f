"""Go imports: `go.mod` module paths map import paths to package folders.

A Go package is every non-test `.go` file of one folder, so an import of a package is an
edge to each of its files. Nested modules (several `go.mod`) are matched by the longest
module path that prefixes the import.
"""

from __future__ import annotations

import posixpath
import re

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver, join_norm
from longweave.sources.repos.treesitter import parse, string_value, walk

_MODULE_LINE = re.compile(r"^\s*module\s+\"?([^\s\"]+)\"?", re.M)


class GoResolver(Resolver):
    language = "go"
    suffixes = (".go",)

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        super().__init__(index)
        modules: list[tuple[str, str]] = []
        for path in sorted(index.aux):
            if posixpath.basename(path) == "go.mod":
                match = _MODULE_LINE.search(index.aux[path])
                if match:
                    modules.append((match.group(1), posixpath.dirname(path)))
        self.modules = sorted(modules, key=lambda m: -len(m[0]))

    def package_files(self, folder: str) -> list[str]:
        return [p for p in self.index.dirs.get(folder, [])
                if p.endswith(".go") and not p.endswith("_test.go")]

    def imports(self, path: str) -> FileImports:
        found = FileImports()
        root = parse("go", self.index.files[path])
        for spec_node in walk(root, frozenset({"import_spec"})):
            spec = string_value(spec_node.child_by_field_name("path"))
            folder = self._package_folder(spec)
            files = self.package_files(folder) if folder is not None else []
            if not files:
                found.external.add(spec)
            for target in files:
                found.add(target, spec, path)
        return found

    def _package_folder(self, spec: str) -> str | None:
        for module, folder in self.modules:
            if spec == module:
                return folder
            if spec.startswith(module + "/"):
                return join_norm(folder, spec[len(module) + 1:])
        return None
