"""The symbol index of a repository row: Python parses (`ast`), script parses
(tree-sitter, `code_ts`), the reader's import edges, and a textual module resolver.

Offsets are absolute in the row's text; everything is built from the row alone.
"""

from __future__ import annotations

import ast
import functools
import posixpath
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from longweave.schemas.document import Document
from longweave.schemas.meta import DEPENDENCY_EDGES, REPO
from longweave.synth.families.base import Unit, files, line_span
from longweave.synth.families.code_ts import ScriptFile, is_script, parse_script

_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_]\w*")
_NEWLINE = re.compile("\n")


@dataclass
class PyFile:
    """One parsed Python file of a row: offsets are absolute in the row's text."""

    unit: Unit
    tree: ast.Module
    line_starts: list[int]
    defs: dict[str, ast.AST] = field(default_factory=dict)

    def offset(self, lineno: int, col: int = 0) -> int:
        return self.line_starts[lineno - 1] + col

    def line(self, text: str, lineno: int) -> tuple[int, int]:
        start = self.offset(lineno)
        return line_span(text, self.unit.body_start, self.unit.end, start)

    imports: dict[str, ast.ImportFrom] = field(default_factory=dict)
    calls: dict[str, list[ast.Call]] = field(default_factory=dict)

    def imported_names(self) -> dict[str, ast.ImportFrom]:
        """Names bound by `from m import name` (not renamed), with the statement."""
        return self.imports

    def calls_of(self, name: str) -> list[ast.Call]:
        """Calls of the bare name `name()`, in source order."""
        return self.calls.get(name, [])


@functools.lru_cache(maxsize=512)
def parse_file(text: str, unit: Unit) -> PyFile | None:
    """The file's parse (cached: finders and checkers of one row parse each file once;
    a str caches its hash, so the key costs nothing after the first call)."""
    body = text[unit.body_start:unit.end]
    try:
        tree = ast.parse(body)
    except (SyntaxError, ValueError):
        return None
    starts = [unit.body_start] + [unit.body_start + m.end() for m in _NEWLINE.finditer(body)]
    py = PyFile(unit, tree, starts)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            py.defs.setdefault(node.name, node)
    for node in _walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*" and alias.asname is None:
                    py.imports.setdefault(alias.name, node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            py.calls.setdefault(node.func.id, []).append(node)
    for found in py.calls.values():
        found.sort(key=lambda n: (n.lineno, n.col_offset))
    return py


def _walk(tree: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`'s nodes in `ast.walk`'s order (breadth first, fields in order), without
    its two generators per node: the walk was most of a parse's Python time."""
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(item for item in value if isinstance(item, ast.AST))
        yield node


def module_paths(importer: str, node: ast.ImportFrom) -> tuple[str, ...]:
    """The repository paths `from <module> import ...` in `importer` can name, textually.

    Relative imports climb from the importer's folder; absolute ones match as a path
    suffix (a `src/` layout or a package folder under the row's root).
    """
    parts = (node.module or "").split(".") if node.module else []
    if node.level:
        base = posixpath.dirname(importer)
        for _ in range(node.level - 1):
            base = posixpath.dirname(base)
        stem = posixpath.join(base, *parts) if parts else base
    else:
        stem = "/".join(parts)
    if not stem:
        return ()
    return (f"{stem}.py", f"{stem}/__init__.py")


def names_module(importer: str, node: ast.ImportFrom, target: str, root: str = "") -> bool:
    """Whether `from ... import` in `importer` names the file `target`.

    `root` is the row's name: a package read as its own repository (`email`) has files
    like `utils.py` that its code imports as `email.utils`.
    """
    for path in module_paths(importer, node):
        if not node.level and root and path.startswith(root + "/"):
            if target == path[len(root) + 1:]:
                return True
        if target == path or (not node.level and target.endswith("/" + path)):
            return True
    return False


@dataclass
class CodeIndex:
    """A row's files, their Python parses and its import edges, limited to a prefix."""

    text: str
    all_files: list[Unit]
    python: dict[int, PyFile]
    edges: list[tuple[int, int]]
    limit: int
    root: str = ""
    incoming: dict[int, list[int]] = field(default_factory=dict)
    scripts: dict[int, ScriptFile] = field(default_factory=dict)

    _words: dict[Unit, frozenset[str]] = field(default_factory=dict)
    _lines: Counter[str] | None = None

    def file(self, i: int) -> Unit:
        return self.all_files[i]

    def words(self, unit: Unit) -> frozenset[str]:
        """Identifiers of a file not after a dot: what `_word(name)` would find, at once."""
        if unit not in self._words:
            self._words[unit] = frozenset(_IDENTIFIER.findall(self.text, unit.body_start,
                                                              unit.end))
        return self._words[unit]

    def line_counts(self) -> Counter[str]:
        """How often each stripped line occurs in the row: a quick filter for uniqueness."""
        if self._lines is None:
            self._lines = Counter(line.strip() for line in self.text.split("\n"))
        return self._lines

    def usable(self, i: int) -> bool:
        return 0 <= i < len(self.all_files) and self.all_files[i].end <= self.limit


def build_index(doc: Document, limit: int, parse: bool = True) -> CodeIndex:
    """The row's index; `parse=False` skips the Python parse (graph-only families)."""
    everything = files(doc)
    python, scripts = {}, {}
    for i, unit in enumerate(everything):
        if parse and unit.end <= limit and unit.name.endswith(".py"):
            parsed = parse_file(doc.text, unit)
            if parsed is not None:
                python[i] = parsed
        elif parse and unit.end <= limit and is_script(unit.name):
            script = parse_script(doc.text, unit)
            if script is not None:
                scripts[i] = script
    edges = []
    for edge in doc.meta.get(DEPENDENCY_EDGES) or []:
        a, b = int(edge[0]), int(edge[1])
        if a != b and 0 <= a < len(everything) and 0 <= b < len(everything):
            edges.append((a, b))
    edges = sorted(set(edges))
    incoming: dict[int, list[int]] = {}
    for a, b in edges:
        incoming.setdefault(b, []).append(a)
    return CodeIndex(doc.text, everything, python, edges, limit, row_name(doc), incoming,
                     scripts)


def row_name(doc: Document) -> str:
    return str(doc.meta.get(REPO) or "")


def def_line(py: PyFile, text: str, node: ast.AST) -> tuple[int, int]:
    return py.line(text, node.lineno)


def unit_named(doc: Document, name: str) -> tuple[int, Unit] | None:
    return next(((i, u) for i, u in enumerate(files(doc)) if u.name == name), None)


def parsed_file(doc: Document, name: str) -> PyFile | None:
    found = unit_named(doc, name)
    return parse_file(doc.text, found[1]) if found else None


def inside(span: tuple[int, int], unit: Unit) -> bool:
    return unit.body_start <= span[0] <= span[1] <= unit.end
