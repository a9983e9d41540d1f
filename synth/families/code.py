"""Code families: questions whose evidence lies in another file of the same repository.

Two indexes, built from the row alone: the import graph the repo reader resolved
(`dependency_edges`, by file index in render order) and a Python symbol index from `ast`
(top-level definitions, `from ... import` names, calls, return statements). Each family's
checker re-derives its answer another way (a textual module resolver over every file, a
whole-word search, a fresh parse), so an answer that holds only by the generator's own
reasoning is dropped.
"""

from __future__ import annotations

import ast
import posixpath
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator

from longweave.schemas.document import Document
from longweave.schemas.meta import DEPENDENCY_EDGES
from longweave.synth.families.base import Family, Grounded, Unit, files, line_span, quote
from longweave.synth.families.code_index import (
    CodeIndex,
    PyFile,
    build_index,
    def_line,
    inside,
    names_module,
    parse_file,
    parsed_file,
    row_name,
    unit_named,
)
from longweave.synth.families.code_ts import (
    export_line,
    is_script,
    regex_exports,
    regex_imports,
    specifier_names,
)

MAX_CALLERS = 8
MAX_RETURNS = 4
IMPORT_WORDS = re.compile(r"\b(?:import|include|use|require|mod|from|extern)\b")


# --- where is a symbol used here defined ------------------------------------------------
def _definition_question(importer: str, name: str, target: str, text: str,
                         where: tuple[int, int], subject: Unit) -> Grounded:
    return Grounded(
        "code_definition",
        f"The file `{importer}` above imports the name `{name}` from another file of this "
        f"repository. Which file defines `{name}`? Quote the line that defines it.",
        f"`{name}` is defined in `{target}`:\n\"{quote(text, where)}\"",
        [where], (subject.start, subject.end),
        {"symbol": name, "subject_file": importer, "file": target}, importer)


def _script_definitions(index: CodeIndex, a: int, b: int) -> list[Grounded]:
    importer, target = index.scripts.get(a), index.scripts.get(b)
    if importer is None or target is None:
        return []
    stem = module_stem(target.unit.name)
    out = []
    for name, spec in sorted(importer.imports.items()):
        if name in target.exports and specifier_names(spec, target.unit.name, stem):
            where = export_line(index.text, target.unit, target.exports[name])
            out.append(_definition_question(importer.unit.name, name, target.unit.name,
                                            index.text, where, importer.unit))
    return out


def _names_imported_from(index: CodeIndex, a: int, b: int
                         ) -> Iterator[tuple[PyFile, PyFile, str]]:
    """`(importer, target, name)` for each name Python file `a` imports from file `b` by a
    `from ... import` that names `b`'s module, in name order (both files parsed)."""
    importer, target = index.python.get(a), index.python.get(b)
    if importer is None or target is None:
        return
    for name, node in sorted(importer.imported_names().items()):
        if names_module(importer.unit.name, node, target.unit.name, index.root):
            yield importer, target, name


def find_definition(doc: Document, limit: int) -> list[Grounded]:
    index = build_index(doc, limit)
    out = []
    for a, b in index.edges:
        out += _script_definitions(index, a, b)
        for importer, target, name in _names_imported_from(index, a, b):
            if name not in target.defs:
                continue
            where = def_line(target, doc.text, target.defs[name])
            out.append(_definition_question(importer.unit.name, name, target.unit.name,
                                            doc.text, where, importer.unit))
    return out


def check_script_definition(doc: Document, g: Grounded) -> list[str]:
    """Regular expressions, not tree-sitter: the import names the target, the line exports."""
    name, subject, target = g.facts["symbol"], g.facts["subject_file"], g.facts["file"]
    importer, defining = unit_named(doc, subject), unit_named(doc, target)
    if importer is None or defining is None or subject == target:
        return ["subject and definition must be two files"]
    spec = regex_imports(doc.text[importer[1].body_start:importer[1].end]).get(name)
    if spec is None or not specifier_names(spec, target, module_stem(target)):
        return [f"{subject} does not import {name} from {target}"]
    if not inside(g.evidence[0], defining[1]) or not regex_exports(quote(doc.text,
                                                                           g.evidence[0]), name):
        return [f"evidence is not an export of {name} in {target}"]
    return []


def check_definition(doc: Document, g: Grounded) -> list[str]:
    name, subject, target = g.facts["symbol"], g.facts["subject_file"], g.facts["file"]
    if is_script(target):
        return check_script_definition(doc, g)
    importer, defining = parsed_file(doc, subject), parsed_file(doc, target)
    if importer is None or defining is None or subject == target:
        return ["subject and definition must be two parsable files"]
    node = importer.imported_names().get(name)
    if node is None or not names_module(subject, node, target, row_name(doc)):
        return [f"{subject} does not import {name} from {target}"]
    if name not in defining.defs:
        return [f"{target} defines no top-level {name}"]
    if defining.line(doc.text, defining.defs[name].lineno) != g.evidence[0]:
        return [f"evidence is not the definition line of {name}"]
    return []


# --- what does a called function return -------------------------------------------------
def _own_returns(func: ast.AST) -> list[ast.Return]:
    """Return statements of `func` itself, not of functions or classes nested in it."""
    found, stack = [], list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Return):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def find_returns(doc: Document, limit: int) -> list[Grounded]:
    index = build_index(doc, limit)
    out = []
    for a, b in index.edges:
        for caller, target, name in _names_imported_from(index, a, b):
            func = target.defs.get(name)
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or not (
                    caller.calls_of(name)):
                continue
            returns = _own_returns(func)
            if not 1 <= len(returns) <= MAX_RETURNS or any(r.value is None for r in returns):
                continue
            lines = [target.line(doc.text, r.lineno) for r in returns]
            quoted = "\n".join(f"- \"{quote(doc.text, s)}\"" for s in lines)
            out.append(Grounded(
                "code_returns",
                f"The file `{caller.unit.name}` above calls `{name}()`, which another file of "
                f"this repository defines. What can `{name}` return? Name the file that "
                "defines it and quote each of its return statements.",
                f"`{name}` is defined in `{target.unit.name}` and returns in {len(lines)} "
                f"place{'s' if len(lines) > 1 else ''}:\n{quoted}",
                lines, (caller.unit.start, caller.unit.end),
                {"symbol": name, "subject_file": caller.unit.name, "file": target.unit.name},
                caller.unit.name))
    return out


def check_returns(doc: Document, g: Grounded) -> list[str]:
    name, subject, target = g.facts["symbol"], g.facts["subject_file"], g.facts["file"]
    caller, defining = parsed_file(doc, subject), parsed_file(doc, target)
    if caller is None or defining is None or subject == target:
        return ["subject and definition must be two parsable files"]
    if not caller.calls_of(name):
        return [f"{subject} never calls {name}"]
    func = defining.defs.get(name)
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [f"{target} defines no function {name}"]
    lines = [defining.line(doc.text, r.lineno) for r in _own_returns(func)]
    return [] if lines == g.evidence else [f"return statements of {name} differ"]


def _near_keep(subject: Unit, spans: list[tuple[int, int]], k: int) -> tuple[int, int]:
    """The subject file and its `k` nearest evidence spans: what a window of a long row
    must hold for an aggregate question (asked again over the window's own files)."""
    near = sorted(spans, key=lambda s: min(abs(s[0] - subject.start), abs(s[1] - subject.end)))
    points = [subject.start, subject.end] + [p for span in near[:k] for p in span]
    return min(points), max(points)


# --- every call site across the repository ---------------------------------------------
def _importers(index: CodeIndex, b: int, name: str) -> list[int]:
    """Files with an import edge to file `b` that bind `name` from it."""
    target = index.python[b]
    out = []
    for a in index.incoming.get(b, []):
        py = index.python.get(a)
        node = py.imported_names().get(name) if py else None
        if node is not None and names_module(py.unit.name, node, target.unit.name, index.root):
            out.append(a)
    return out


def find_call_sites(doc: Document, limit: int) -> list[Grounded]:
    index = build_index(doc, limit)
    out = []
    for b, target in sorted(index.python.items()):
        for name, func in sorted(target.defs.items()):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            callers = [a for a in _importers(index, b, name) if index.python[a].calls_of(name)]
            if not 2 <= len(callers) <= MAX_CALLERS:
                continue
            lines = []
            for a in callers:
                call = index.python[a].calls_of(name)[0]
                lines.append(index.python[a].line(doc.text, call.lineno))
            listed = "\n".join(f"- `{index.file(a).name}`: \"{quote(doc.text, s)}\""
                               for a, s in zip(callers, lines, strict=True))
            out.append(Grounded(
                "code_call_sites",
                f"`{name}` is defined in `{target.unit.name}`. Which other files above import "
                "and call it? List every one and quote one call from each.",
                f"{len(callers)} files call `{name}`:\n{listed}", lines,
                (target.unit.start, target.unit.end),
                {"symbol": name, "subject_file": target.unit.name, "limit": limit,
                 "files": [index.file(a).name for a in callers]}, target.unit.name,
                keep=_near_keep(target.unit, lines, 2)))
    return out


def check_call_sites(doc: Document, g: Grounded) -> list[str]:
    """Every parsable file of the usable prefix is scanned, not only the graph's importers."""
    name, subject, limit = g.facts["symbol"], g.facts["subject_file"], g.facts["limit"]
    found = []
    for unit in files(doc):
        if unit.name == subject or not unit.name.endswith(".py") or unit.end > limit:
            continue
        py = parse_file(doc.text, unit)
        node = py.imported_names().get(name) if py else None
        if node is not None and names_module(unit.name, node, subject, row_name(doc)) and (
                py.calls_of(name)):
            found.append(unit.name)
    if found != g.facts["files"]:
        return [f"callers of {name}: answer {g.facts['files']}, code {found}"]
    for path, span in zip(found, g.evidence, strict=True):
        found_unit = unit_named(doc, path)
        if found_unit is None or not inside(span, found_unit[1]) or (
                f"{name}(" not in quote(doc.text, span)):
            return [f"evidence for {path} is not a call of {name}"]
    return []


# --- which files must change to rename an identifier -----------------------------------
def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(name)}\b")


def find_rename(doc: Document, limit: int) -> list[Grounded]:
    index = build_index(doc, limit)
    out = []
    usable = [u for u in index.all_files if u.end <= limit]
    for b, target in sorted(index.python.items()):
        for name in sorted(target.defs):
            if len(name) < 4 or name.startswith("__"):
                continue
            importers = _importers(index, b, name)
            if not 1 <= len(importers) <= MAX_CALLERS:
                continue
            wanted = {index.file(a).name for a in importers} | {target.unit.name}
            if any(u.name not in wanted and name in index.words(u) for u in usable):
                continue  # another file names it some other way: the answer would be unsure
            lines = []
            for a in importers:
                node = index.python[a].imported_names()[name]
                lines.append(_name_line(doc.text, index.python[a], node, name))
            listed = "\n".join(f"- `{index.file(a).name}`: \"{quote(doc.text, s)}\""
                               for a, s in zip(importers, lines, strict=True))
            out.append(Grounded(
                "code_rename",
                f"To rename `{name}`, defined in `{target.unit.name}`, which files above must "
                "change? Name every file besides the defining one and quote the line in each "
                "that names it.",
                f"Besides `{target.unit.name}`, {len(importers)} file"
                f"{'s' if len(importers) > 1 else ''} must change:\n{listed}", lines,
                (target.unit.start, target.unit.end),
                {"symbol": name, "subject_file": target.unit.name, "limit": limit,
                 "files": [index.file(a).name for a in importers]}, target.unit.name,
                keep=_near_keep(target.unit, lines, 1)))
    return out


def _name_line(text: str, py: PyFile, node: ast.ImportFrom, name: str) -> tuple[int, int]:
    """The line of a (possibly multi-line) import statement that holds `name`."""
    pattern = _word(name)
    for lineno in range(node.lineno, (node.end_lineno or node.lineno) + 1):
        a, b = py.line(text, lineno)
        if pattern.search(text, a, b):
            return a, b
    return py.line(text, node.lineno)


def check_rename(doc: Document, g: Grounded) -> list[str]:
    """Whole-word search over every file of the usable prefix: the files naming it."""
    name, subject, limit = g.facts["symbol"], g.facts["subject_file"], g.facts["limit"]
    pattern = _word(name)
    named = [u.name for u in files(doc) if u.name != subject and u.end <= limit
             and pattern.search(doc.text, u.body_start, u.end)]
    if named != g.facts["files"]:
        return [f"files naming {name}: answer {g.facts['files']}, text {named}"]
    for path, span in zip(named, g.evidence, strict=True):
        unit = unit_named(doc, path)
        if unit is None or not inside(span, unit[1]) or not pattern.search(quote(doc.text, span)):
            return [f"evidence for {path} does not name {name}"]
    return []


# --- which module a file's import resolves to (any language) ---------------------------
def module_stem(path: str) -> str:
    """The name an import uses for a file: its stem, or its folder for index-like files."""
    base = posixpath.basename(path)
    stem = base.split(".", 1)[0]
    if stem in ("__init__", "index", "mod", "lib", "main") and "/" in path:
        return posixpath.basename(posixpath.dirname(path))
    return stem


def import_like_lines(text: str, unit: Unit) -> list[tuple[int, int, str]]:
    """`(start, end, line)` of each line of `unit` with an import word, at most 200 chars."""
    out = []
    pos = unit.body_start
    while pos < unit.end:
        end = text.find("\n", pos, unit.end)
        end = unit.end if end < 0 else end
        line = text[pos:end]
        if IMPORT_WORDS.search(line) and len(line) <= 200:
            out.append((pos, end, line))
        pos = end + 1
    return out


def import_line(text: str, unit: Unit, stem: str,
                lines: list[tuple[int, int, str]] | None = None) -> tuple[int, int] | None:
    """The first import-like line of `unit` that names `stem` as a word; `lines`: the
    unit's `import_like_lines`, when several stems are looked up in one file."""
    pattern = re.compile(rf"(?<![\w]){re.escape(stem)}(?![\w])")
    for pos, end, line in import_like_lines(text, unit) if lines is None else lines:
        if pattern.search(line):
            return line_span(text, pos, end, pos)
    return None


def first_line(text: str, unit: Unit, lines: Counter[str] | None = None
               ) -> tuple[int, int] | None:
    """The first line of a file that occurs once in the whole row: a quote names the file.

    `lines` (stripped line counts of the row) skips lines seen twice without a search."""
    pos = unit.body_start
    while pos < unit.end:
        end = text.find("\n", pos, unit.end)
        end = unit.end if end < 0 else end
        a, b = line_span(text, pos, end, pos)
        if 8 <= b - a <= 160 and (lines is None or lines[text[a:b]] == 1) and (
                text.count(text[a:b]) == 1):
            return a, b
        pos = end + 1
    return None


def find_import_target(doc: Document, limit: int) -> list[Grounded]:
    index = build_index(doc, limit, parse=False)
    out = []
    # a file imports several others and is imported by several: read each once
    import_lines: dict[int, list[tuple[int, int, str]]] = {}
    heads: dict[int, tuple[int, int] | None] = {}
    for a, b in index.edges:
        if not (index.usable(a) and index.usable(b)):
            continue
        importer, target = index.file(a), index.file(b)
        stem = module_stem(target.name)
        where = None
        if len(stem) >= 2:
            if a not in import_lines:
                import_lines[a] = import_like_lines(doc.text, importer)
            where = import_line(doc.text, importer, stem, import_lines[a])
        if where and b not in heads:
            heads[b] = first_line(doc.text, target, index.line_counts())
        head = heads[b] if where else None
        if where is None or head is None:
            continue
        line = quote(doc.text, where)
        out.append(Grounded(
            "code_import_target",
            f"In `{importer.name}` above, the line \"{line}\" imports from this repository. "
            "Which file does it resolve to? Name the file and quote the first line of it that appears nowhere else.",
            f"It resolves to `{target.name}`, whose first line found nowhere else is:\n\"{quote(doc.text, head)}\"",
            [head], (importer.start, importer.end),
            {"subject_file": importer.name, "file": target.name, "edge": [a, b],
             "import_line": line}, importer.name))
    return out


def check_import_target(doc: Document, g: Grounded) -> list[str]:
    every = files(doc)
    a, b = g.facts["edge"]
    if not (0 <= a < len(every) and 0 <= b < len(every)) or a == b:
        return ["edge names no two files"]
    if [a, b] not in [[int(e[0]), int(e[1])] for e in doc.meta.get(DEPENDENCY_EDGES) or []]:
        return ["the import graph has no such edge"]
    importer, target = every[a], every[b]
    if (importer.name, target.name) != (g.facts["subject_file"], g.facts["file"]):
        return ["edge files differ from the answer"]
    if g.facts["import_line"] not in doc.text[importer.body_start:importer.end] or (
            module_stem(target.name) not in g.facts["import_line"]):
        return ["the quoted import is not in the importer or does not name the target"]
    if not inside(g.evidence[0], target) or first_line(doc.text, target) != g.evidence[0]:
        return ["evidence is not the target's first line"]
    return []


def _subject_differs(g: Grounded, doc: Document) -> bool:
    """Every evidence span lies outside the subject file: the point of these families."""
    every = files(doc)
    starts = [u.start for u in every]
    subject = g.facts["subject_file"]
    for a, _ in g.evidence:
        i = bisect_right(starts, a) - 1
        if i < 0 or every[i].name == subject:
            return False
    return True


Checker = Callable[[Document, Grounded], list[str]]


def checked(check: Checker) -> Checker:
    """A code checker that also refuses evidence inside the question's subject file."""
    def run(doc: Document, g: Grounded) -> list[str]:
        if not _subject_differs(g, doc):
            return ["evidence lies in the question's subject file"]
        return check(doc, g)
    return run


CODE_FAMILIES: tuple[Family, ...] = (
    Family("code_definition", "symbols", find_definition, checked(check_definition)),
    Family("code_returns", "lang:python", find_returns, checked(check_returns)),
    Family("code_call_sites", "lang:python", find_call_sites, checked(check_call_sites)),
    Family("code_rename", "lang:python", find_rename, checked(check_rename)),
    Family("code_import_target", "edges", find_import_target, checked(check_import_target)),
)
