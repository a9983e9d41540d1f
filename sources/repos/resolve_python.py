"""Python imports with `ast`: absolute, relative, packages, `src/` layouts, nested imports.

Module names come from the package chain (folders holding `__init__.py`), so `src/pkg/a.py`
is `pkg.a` and a repository whose root is itself a package (a stdlib folder such as
`email/`) is named after the repository. `import a.b.c` points at module `a.b.c`;
`from a.b import c` at the submodule `a.b.c` when it is a file, else at `a.b` (`c` is an
attribute), which is how import-graph tools such as grimp count them. A module missing
from the checkout under one of its packages is unresolved (meta), never an edge to the
package's `__init__.py`.
"""

from __future__ import annotations

import ast
import posixpath
import re

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver

SOURCE_ROOTS = ("src", "lib", "python")
_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
# Fallback for files `ast` cannot parse (Python 2 code in test data): plain import lines.
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+([\w, \t.*()]+)"
                          r"|import[ \t]+([\w., \t]+))", re.M)


class PythonResolver(Resolver):
    language = "python"
    suffixes = (".py", ".pyi")

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        super().__init__(index)
        self.modules: dict[str, str] = {}
        sources = sorted((p for p in index.files if p.endswith(self.suffixes)),
                         key=lambda p: (p.endswith(".pyi"), p))  # .py wins over its stub
        for path in sources:
            name = self._package_chain_name(path, repo)
            if name:
                self.modules.setdefault(name, path)
        if not self._is_package(""):  # a package root has no top-level modules of its own
            for path in sources:
                for name in self._fallback_names(path):
                    self.modules.setdefault(name, path)

    def _package_chain_name(self, path: str, repo: str) -> str | None:
        parts = _module_parts(path)
        folder = posixpath.dirname(path)
        depth = 0  # how many enclosing folders are packages
        while folder and self._is_package(folder):
            depth += 1
            folder = posixpath.dirname(folder)
        if not folder and self._is_package(""):
            return ".".join([repo.split("@")[0], *parts])
        keep = depth + 1 - (1 if posixpath.basename(path).startswith("__init__.") else 0)
        name_parts = parts[len(parts) - keep:] if keep > 0 else []
        return ".".join(name_parts) or None

    def _is_package(self, folder: str) -> bool:
        prefix = f"{folder}/" if folder else ""
        return (f"{prefix}__init__.py" in self.index.files
                or f"{prefix}__init__.pyi" in self.index.files)

    @staticmethod
    def _fallback_names(path: str) -> list[str]:
        parts = _module_parts(path)
        names = [".".join(parts)] if parts else []
        if len(parts) > 1 and parts[0] in SOURCE_ROOTS:
            names.insert(0, ".".join(parts[1:]))
        return names

    def imports(self, path: str) -> FileImports:
        found = FileImports()
        for level, module, names in _import_statements(self.index.files[path]):
            if level:
                self._relative(path, level, module, names, found)
            elif names is None:
                self._absolute(path, module, found)
            else:
                for name in names:
                    full = f"{module}.{name}" if name != "*" else module
                    self._absolute(path, full if full in self.modules else module, found)
        return found

    def _absolute(self, path: str, dotted: str, found: FileImports) -> None:
        """`dotted` must be a module of the checkout (an import names modules, never an
        attribute); a missing module under a package of the checkout is unresolved, not an
        edge to the package's `__init__.py`."""
        hit = self.modules.get(dotted)
        if hit:
            found.add(hit, dotted, path)
            return
        top = dotted.split(".", 1)[0]
        if top in self.modules and "." in dotted:
            found.miss(dotted, f"module not in checkout (package {top} is)")
        else:
            found.add(None, dotted, path)

    def _relative(self, path: str, level: int, module: str, names: list[str] | None,
                  found: FileImports) -> None:
        folder = posixpath.dirname(path)
        for _ in range(level - 1):
            if not folder:
                found.external.add("." * level + module)
                return
            folder = posixpath.dirname(folder)
        base = [*([folder] if folder else []), *(module.split(".") if module else [])]
        spec = "." * level + module
        for name in names or ["*"]:
            target = None
            if name != "*":
                target = self._module_file([*base, name])
            target = target or self._module_file(base)
            if target is None:
                found.miss(spec, "module not in checkout (relative import)")
            else:
                found.add(target, spec, path)

    def _module_file(self, parts: list[str]) -> str | None:
        stem = "/".join(parts)
        prefix = f"{stem}/" if stem else ""
        for candidate in (f"{stem}.py", f"{prefix}__init__.py", f"{stem}.pyi",
                          f"{prefix}__init__.pyi"):
            if candidate in self.index.files:
                return candidate
        return None


def _module_parts(path: str) -> list[str]:
    stem = path.rsplit(".", 1)[0]
    parts = stem.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return parts


def _import_statements(text: str) -> list[tuple[int, str, list[str] | None]]:
    """(level, module, imported names or None for `import x`) for every import anywhere."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return _import_lines(text)
    out: list[tuple[int, str, list[str] | None]] = []
    # Imports are statements: descend through statement bodies only, never expressions.
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            out.extend((0, alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or "", [a.name for a in node.names]))
        else:
            for name in _BODY_FIELDS:
                children = getattr(node, name, None)
                if children:
                    stack.extend(reversed(children))
    return out


def _import_lines(text: str) -> list[tuple[int, str, list[str] | None]]:
    out: list[tuple[int, str, list[str] | None]] = []
    for match in _IMPORT_LINE.finditer(text):
        source, names, plain = match.groups()
        if plain:
            out.extend((0, n.split(" as ")[0].strip(), None) for n in plain.split(",")
                       if n.strip())
        elif source is not None:
            level = len(source) - len(source.lstrip("."))
            listed = [n.split(" as ")[0].strip(" ()\t") for n in names.split(",")]
            out.append((level, source.lstrip("."), [n for n in listed if n]))
    return out
