"""Go imports: `go.mod` module paths map import paths to package folders.

A Go package is every non-test `.go` file of one folder, so an import of a package is an
edge to each of its files. Nested modules (several `go.mod`) are matched by the longest
module path that prefixes the import. A file under a build constraint (`//go:build`, a
`_linux`/`_amd64` name suffix) belongs to the package only in some builds: its edges are
kept (the graph covers every platform) and marked with the constraint (meta
`conditional_edges`); a file no build includes (`//go:build ignore`, a name starting with
`_` or `.`) is not part of the package, as `go list` has it.
"""

from __future__ import annotations

import posixpath
import re

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver, join_norm
from longweave.sources.repos.treesitter import parse, string_value, walk

_MODULE_LINE = re.compile(r"^\s*module\s+\"?([^\s\"]+)\"?", re.M)
_GO_BUILD = re.compile(r"^//go:build[ \t]+(.+?)\s*$")
_PLUS_BUILD = re.compile(r"^//[ \t]*\+build[ \t]+(.+?)\s*$")
GOOS = frozenset({"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios",
                  "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1",
                  "windows", "zos"})
GOARCH = frozenset({"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64",
                    "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc",
                    "ppc64", "ppc64le", "riscv", "riscv64", "s390", "s390x", "sparc",
                    "sparc64", "wasm"})


def build_constraint(path: str, text: str) -> str | None:
    """The build constraint of a Go file as written (`//go:build` line, else the `// +build`
    lines and-ed, and the `_GOOS`/`_GOARCH` name suffix), or None: every build has it."""
    parts: list[str] = []
    plus: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("package ") or (stripped and not stripped.startswith("//")
                                                and not stripped.startswith(("/*", "*"))):
            break
        if match := _GO_BUILD.match(stripped):
            parts.append(match.group(1))
        elif match := _PLUS_BUILD.match(stripped):
            plus.append(" || ".join(f"({' && '.join(o.split(','))})" if "," in o else o
                                    for o in match.group(1).split()))
    if not parts and plus:
        parts.append(" && ".join(f"({p})" if len(plus) > 1 else p for p in plus))
    stem = posixpath.basename(path)[: -len(".go")].split("_")
    tags = [t for t in stem[1:][-2:] if t in GOOS or t in GOARCH]
    if len(tags) == 2 and not (tags[0] in GOOS and tags[1] in GOARCH):
        tags = tags[1:]
    parts.extend(tags)
    return " && ".join(parts) or None


def never_built(path: str, constraint: str | None) -> bool:
    """Files `go build` never compiles: `_x.go`/`.x.go` names, the `ignore` tag idiom."""
    name = posixpath.basename(path)
    if name.startswith(("_", ".")):
        return True
    if constraint is None or "||" in constraint:
        return False
    terms = [t.strip(" ()") for t in constraint.split("&&")]
    return "ignore" in terms  # a conjunction that needs the `ignore` tag


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

        self.constraints = {p: build_constraint(p, t) for p, t in sorted(index.files.items())
                            if p.endswith(".go")}

    def package_files(self, folder: str) -> list[str]:
        return [p for p in self.index.dirs.get(folder, [])
                if p.endswith(".go") and not p.endswith("_test.go")
                and not never_built(p, self.constraints.get(p))]

    def imports(self, path: str) -> FileImports:
        found = FileImports()
        root = parse("go", self.index.files[path])
        own = self.constraints.get(path)
        for spec_node in walk(root, frozenset({"import_spec"})):
            spec = string_value(spec_node.child_by_field_name("path"))
            folder = self._package_folder(spec)
            files = self.package_files(folder) if folder is not None else []
            if folder is None:
                found.external.add(spec)
            elif not files:
                found.miss(spec, "package folder has no Go files in the checkout")
            for target in files:
                found.add(target, spec, path)
                condition = " && ".join(f"({c})" for c in (own, self.constraints[target]) if c)
                if condition:
                    found.conditional.setdefault(target, condition)
        return found

    def _package_folder(self, spec: str) -> str | None:
        for module, folder in self.modules:
            if module == "std" and "." not in spec.split("/", 1)[0]:
                return join_norm(folder, spec)  # GOROOT/src: std imports carry no prefix
            if spec == module:
                return folder
            if spec.startswith(module + "/"):
                return join_norm(folder, spec[len(module) + 1:])
        return None
