"""Run every language's resolver over one repository: file -> imports, plus failures.

A resolver that fails on one file (a grammar bug, a pathological input) costs that file's
edges only; the failure is reported, the repository still renders.
"""

from __future__ import annotations

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver
from longweave.sources.repos.resolve_c import CResolver
from longweave.sources.repos.resolve_go import GoResolver
from longweave.sources.repos.resolve_java import JavaResolver
from longweave.sources.repos.resolve_js import JsResolver
from longweave.sources.repos.resolve_python import PythonResolver
from longweave.sources.repos.resolve_rust import RustResolver

RESOLVERS: tuple[type[Resolver], ...] = (
    PythonResolver, JsResolver, CResolver, GoResolver, RustResolver, JavaResolver)


# File label per suffix, independent of which resolver reads the file: one JS/TS resolver
# reads both, one include resolver reads C and C++, but meta `languages` (files per
# language) must say what each file is written in. Longest suffix first (`.d.ts`).
LANGUAGE_SUFFIXES: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp",
    ".inl": "cpp", ".ipp": "cpp", ".tcc": "cpp", ".inc": "c",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".scala": "scala",
    ".rb": "ruby", ".php": "php", ".cs": "csharp", ".swift": "swift", ".m": "objective-c",
    ".sh": "shell", ".lua": "lua", ".sql": "sql",
}


def language_of(path: str) -> str | None:
    """The language a file is written in, by suffix (None: not a known code suffix)."""
    _, dot, suffix = path.rpartition(".")
    return LANGUAGE_SUFFIXES.get(f".{suffix}") if dot else None


def resolve_repository(index: RepoIndex, repo: str
                       ) -> tuple[dict[str, FileImports], dict[str, str]]:
    """Imports of every file whose language has a resolver, and `{path: error}` failures."""
    imports: dict[str, FileImports] = {}
    errors: dict[str, str] = {}
    for resolver_class in RESOLVERS:
        paths = sorted(p for p in index.files if p.endswith(resolver_class.suffixes))
        if not paths:
            continue
        try:
            resolver = resolver_class(index, repo)
        except Exception as error:  # noqa: BLE001 - one language failing keeps the others
            errors.update({p: f"{type(error).__name__}: {error}" for p in paths})
            continue
        for path in paths:
            try:
                imports[path] = resolver.imports(path)
            except Exception as error:  # noqa: BLE001 - one file's edges, not the repo
                errors[path] = f"{type(error).__name__}: {error}"
    return imports, errors
