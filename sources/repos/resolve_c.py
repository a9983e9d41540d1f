"""C / C++ `#include` resolution with the preprocessor's search order.

`#include "x"` looks in the including file's folder first, then the include folders;
`#include <x>` only in the include folders. Include folders are the recipe's
`include_dirs`, every folder named `include`, and the repository root. Includes of `.c`
or `.inc` files count like headers. Directives are read line by line as the preprocessor
reads them (no grammar: macros confuse any parser), with `#if` groups tracked: a branch no
build takes (`#if 0`) gives no edge, a conditional one gives an edge marked with its
condition (meta `conditional_edges`).
"""

from __future__ import annotations

import posixpath
import re

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver, join_norm


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
        for quoted, spec, condition in include_directives(path, self.index.files[path]):
            target = self._resolve(folder, spec, quoted)
            found.add(target, spec, path)
            if target is not None and condition is not None:
                found.conditional.setdefault(target, condition)
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


def include_directives(path: str, text: str) -> list[tuple[bool, str, str | None]]:
    """(is_quoted, spec, condition) of each `#include` a build can reach, in order, without
    duplicates. Read like the preprocessor reads them: comments removed, then one directive
    per line. Includes in a branch no build takes (`#if 0`, the `#else` of `#if 1`) are
    left out; others under `#if`/`#ifdef` carry the condition (None: every build). An
    include guard (`#ifndef X` then `#define X`) is not a condition."""
    lines = _COMMENT_OR_STRING.sub(_blank_comment, text.replace("\\\n", " ")).split("\n")
    frames: list[_Frame] = []
    found: dict[tuple[bool, str], str | None] = {}
    for number, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if not match:
            continue
        keyword, rest = match.group(1), match.group(2).strip()
        if keyword in ("if", "ifdef", "ifndef"):
            condition = {"ifdef": f"defined({rest})", "ifndef": f"!defined({rest})"}.get(
                keyword, rest)
            guard = keyword == "ifndef" and _defines_next(lines, number + 1, rest)
            frames.append(_Frame(None if guard else condition, _constant(rest)
                                 if keyword == "if" else None))
        elif keyword == "elif" and frames:
            frames[-1].branch(rest, _constant(rest))
        elif keyword == "else" and frames:
            frames[-1].branch(None, None)
        elif keyword == "endif" and frames:
            frames.pop()
        elif keyword == "include" and not any(f.dead for f in frames):
            target = _INCLUDE_TARGET.match(rest)
            if target:
                key = (target.group(1) == '"', target.group(2).strip())
                conditions = [f.condition for f in frames if f.condition]
                condition = " && ".join(conditions) or None
                # The same include on an unconditional line wins.
                if key not in found or condition is None:
                    found[key] = condition
    return [(quoted, spec, condition) for (quoted, spec), condition in found.items()]


class _Frame:
    """One open `#if` group: the condition of its current branch, and whether no build can
    take that branch (a constant 0, or every earlier branch was a constant 1)."""

    def __init__(self, condition: str | None, constant: bool | None) -> None:
        condition = None if constant is not None else condition
        self.conditions = [condition] if condition else []
        self.condition = condition
        self.dead = constant is False
        self.taken = constant is True

    def branch(self, condition: str | None, constant: bool | None) -> None:
        condition = None if constant is not None else condition
        earlier = " || ".join(self.conditions)
        negated = f"!({earlier})" if earlier else None
        self.condition = " && ".join(c for c in (negated, condition) if c) or None
        if condition:
            self.conditions.append(condition)
        self.dead = self.taken or constant is False
        self.taken = self.taken or constant is True


def _constant(expression: str) -> bool | None:
    """`0` / `1` (as written, optionally in parentheses) -> False / True; else None."""
    value = expression.strip().strip("()").strip()
    return {"0": False, "1": True, "false": False, "true": True}.get(value)


def _defines_next(lines: list[str], start: int, name: str) -> bool:
    """Is the next directive `#define name`? (the include-guard idiom)"""
    for line in lines[start:start + 20]:
        match = _DIRECTIVE.match(line)
        if match:
            return match.group(1) == "define" and match.group(2).split("(")[0].split() == [name]
        if line.strip():
            return False
    return False


def _blank_comment(match: re.Match[str]) -> str:
    """Comments become blanks (keeping their newlines, so line numbers stay); strings stay."""
    text = match.group(0)
    if text.startswith(("/*", "//")):
        return "".join("\n" if char == "\n" else " " for char in text)
    return text


_COMMENT_OR_STRING = re.compile(
    r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(\w+)(.*)$")
_INCLUDE_TARGET = re.compile(r'([<"])([^>"\n]+)[>"]')
