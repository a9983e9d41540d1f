"""C / C++ `#include` resolution with the preprocessor's search order.

`#include "x"` looks in the including file's folder first, then the include folders;
`#include <x>` only in the include folders. Include folders are the recipe's
`include_dirs`, every folder named `include`, and the repository root. Includes of `.c`
or `.inc` files count like headers. Directives are read with tree-sitter; when the parse has
errors (macros confuse any grammar), the line-based directive scan the preprocessor itself
uses fills in what the tree lost.
"""

from __future__ import annotations

import posixpath
import re

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver, join_norm
from longweave.sources.repos.treesitter import parse, string_value, walk

C_SUFFIXES = (".c", ".h")
_INCLUDE_LINE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)


class CResolver(Resolver):
    language = "c"
    suffixes = (".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx", ".inl", ".inc",
                ".ipp", ".tcc")

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        super().__init__(index)
        include_named = sorted({posixpath.dirname(p) for p in index.files
                                if posixpath.basename(posixpath.dirname(p)) == "include"})
        self.include_dirs = [*index.include_dirs, *include_named, ""]
        self._by_suffix: dict[str, list[str]] = {}
        for path in sorted(index.files):
            self._by_suffix.setdefault(posixpath.basename(path), []).append(path)

    def imports(self, path: str) -> FileImports:
        found = FileImports()
        folder = posixpath.dirname(path)
        for quoted, spec in include_directives(path, self.index.files[path]):
            found.add(self._resolve(folder, spec, quoted), spec, path)
        return found

    def _resolve(self, folder: str, spec: str, quoted: bool) -> str | None:
        spec = spec.strip()
        if posixpath.isabs(spec):
            return None
        for base in ([folder] if quoted else []) + self.include_dirs:
            candidate = join_norm(base, spec)
            if candidate is not None and candidate in self.index.files:
                return candidate
        if quoted:  # last resort: exactly one file in the repo ends with this path
            matches = [p for p in self._by_suffix.get(posixpath.basename(spec), [])
                       if p == spec or p.endswith("/" + spec)]
            if len(matches) == 1:
                return matches[0]
        return None


def include_directives(path: str, text: str) -> list[tuple[bool, str]]:
    """(is_quoted, spec) of each `#include`, in order, without duplicates."""
    language = "c" if path.endswith(C_SUFFIXES) else "cpp"
    root = parse(language, text)
    found: list[tuple[bool, str]] = []
    for node in walk(root, frozenset({"preproc_include"})):
        target = node.child_by_field_name("path")
        if target is None or target.type not in ("string_literal", "system_lib_string"):
            continue
        found.append((target.type == "string_literal", string_value(target)))
    if root.has_error:
        found.extend((m.group(1) == '"', m.group(2)) for m in _INCLUDE_LINE.finditer(text))
    return list(dict.fromkeys(found))
