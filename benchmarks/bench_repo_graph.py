"""Edge precision / recall and dependency-order violations of the repo dependency graph,
against tools nobody here wrote (the issue's `repo_graph_accuracy`).

- Python: `grimp` (PyPI) on stdlib packages, installed packages and flask (`src/` layout,
  ../shared/data/repos/flask): module-level direct imports, mapped to files.
- C / C++: `gcc -MM -MG` per translation unit on the C sources of pip sdists (fetched with
  `pip download --no-binary`); transitive header sets, so our edges are closed transitively
  from each source file before comparing; truth is the union over the platform macros the
  sources test.
- TypeScript: `tsc --listFilesOnly --traceResolution` (npm `typescript`, installed by this
  script into its cache folder) on ../shared/data/repos/taxonomy (tsconfig `paths` alias):
  every module resolution tsc makes from a program file to a program file.
- JavaScript / TypeScript (optional, `--js-root`): `dependency-cruiser`.
- Go: `go list -json` (Debian `golang-go`) on packages of the Go standard library, one
  run per GOOS/GOARCH of `go tool dist list` and one with every custom build tag the
  sources name (the graph is platform-free, so truth is the union); per-file imports
  from Go's own `go/parser` (a 30-line helper this script writes and `go run`s).
- Rust, on a stable toolchain (no `-Z`): ../shared/data/repos/ripgrep. Crate targets from
  `cargo metadata --no-deps --offline`; each crate's module files from `rustc
  --emit=dep-info`; `use` edges from rustc's own name resolution, by ablation: for every
  module file G, a copy of the crate where G keeps only its `mod` declarations is compiled
  (`--error-format=json`, resolution only; missing crates.io dependencies fail the same
  way in every run), and every file with resolution errors (E0412/E0425/E0432/E0433...)
  that the unmodified crate does not have uses an item of G: edge file -> G; plus the
  `mod` edges (rustc's module tree, read by a `compile_error!(module_path!())` marker).
  Cross-crate edges (workspace path dependencies) cannot be ablated without building the
  dependency crates, so they are checked against cargo metadata: the target must be the
  library root of a path dependency of the importer's package.

Both sides are restricted to the files our selector keeps (and, where a tool has a
narrower view, to the importers that tool covers), so the score measures resolution, not
file selection. An order violation is a truth edge whose imported file is rendered after
its importer while the two are not in one cycle of the truth graph.

    python benchmarks/bench_repo_graph.py [--only python,c,ts,go,rust] [--c-sdist DIR ...]
        [--js-root DIR ...] [--cache /tmp/lw_repo_graph_cache]

Prints one row per repository, a total per language, the time ratio against the peer tool
and peak memory.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from longweave.schemas.document import Document
from longweave.schemas.recipe_sources import RepoOptions
from longweave.schemas.spans import FILE, label_value
from longweave.sources.repos import RepoReader

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_REPOS = PROJECT_ROOT.parent / "shared" / "data" / "repos"
STDLIB_PACKAGES = ("email", "json", "importlib", "xml", "http", "asyncio", "concurrent",
                   "logging", "unittest", "multiprocessing", "urllib", "sqlite3", "tomllib")
SITE_PACKAGES = ("pathspec", "yaml", "pydantic", "networkx", "luigi", "datasketch", "grimp")
PLATFORM = re.compile(r"^(_WIN32|_WIN64|__APPLE__|__linux__|__FreeBSD__|__OpenBSD__|__NetBSD__"
                      r"|__sun|_AIX|__CYGWIN__|__MINGW32__|_MSC_VER|\w+_(LINUX|OSX|MACOS|WINDOWS"
                      r"|FREEBSD|OPENBSD|NETBSD|SUNOS|AIX|BSD|POSIX)\d*)$")
C_SDISTS = ("psutil==5.9.8", "markupsafe==2.1.5", "ujson==5.9.0")
TYPESCRIPT = "typescript@5.4.5"
# npm packages that ship their TypeScript sources with the tsconfig they build with
# (rxjs: `paths` self-aliases, a `src/` + `dist/` layout).
NPM_TS_PACKAGES = ("rxjs@7.8.1",)
GO_STD_TREES = ("archive", "compress", "container", "encoding", "go", "html", "image",
                "text", "mime", "hash", "regexp")
# rustc resolution errors: an item or module a path names is not there.
RUST_RESOLUTION_CODES = frozenset({"E0412", "E0422", "E0423", "E0425", "E0432", "E0433",
                                   "E0531", "E0532", "E0574", "E0405", "E0404", "E0583"})
_GO_IMPORTS_HELPER = """package main

import (
\t"bufio"
\t"fmt"
\t"go/parser"
\t"go/token"
\t"os"
\t"strconv"
)

// Prints "file<TAB>import path" for every import of every file named on stdin.
func main() {
\tscanner := bufio.NewScanner(os.Stdin)
\tfset := token.NewFileSet()
\tfor scanner.Scan() {
\t\tname := scanner.Text()
\t\tfile, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
\t\tif err != nil {
\t\t\tcontinue
\t\t}
\t\tfor _, spec := range file.Imports {
\t\t\tpath, _ := strconv.Unquote(spec.Path.Value)
\t\t\tfmt.Printf("%s\\t%s\\n", name, path)
\t\t}
\t}
}
"""


@dataclass
class Row:
    language: str
    name: str
    files: int
    ours: set[tuple[str, str]]
    truth: set[tuple[str, str]]
    order: list[str]
    ours_s: float
    peer_s: float
    # Our edges touching files the peer cannot see (grimp: namespace packages): unverified,
    # used only to tell whether two files are in one cycle.
    unseen: frozenset[tuple[str, str]] = frozenset()

    def violations(self) -> list[tuple[str, str]]:
        """Truth edges whose imported file is rendered after its importer, outside a cycle
        of the truth graph."""
        position = {path: i for i, path in enumerate(self.order)}
        graph = nx.DiGraph(sorted(self.truth | self.unseen))
        cycle = {n: i for i, members in enumerate(nx.strongly_connected_components(graph))
                 for n in members}
        return sorted((importer, imported) for importer, imported in self.truth
                      if importer in position and imported in position
                      and position[imported] > position[importer]
                      and cycle[imported] != cycle[importer])


def our_graph(root: Path, **options: object
              ) -> tuple[set[tuple[str, str]], list[str], float, Document]:
    """Our edges, the render order, the seconds it took and the document of one folder."""
    start = time.perf_counter()
    docs = list(RepoReader.read("bench", str(root), RepoOptions(**options)))
    elapsed = time.perf_counter() - start
    doc = docs[0]
    if not isinstance(doc, Document):
        raise RuntimeError(f"{root}: {doc}")
    order = [label_value(s.label, FILE) for s in doc.spans_with_prefix(FILE)]
    if doc.meta.get("dependency_edges_truncated"):
        raise RuntimeError(f"{root}: edges truncated in meta; raise max_distances_listed")
    edges = {(order[i], order[j]) for i, j, _ in doc.meta["dependency_edges"]}
    return edges, order, elapsed, doc


def score(ours: set, truth: set) -> tuple[float, float]:
    hit = len(ours & truth)
    precision = hit / len(ours) if ours else 1.0
    recall = hit / len(truth) if truth else 1.0
    return precision, recall


# --- Python: grimp ---------------------------------------------------------------------------
def python_rows() -> list[Row]:
    rows = []
    for package in (*STDLIB_PACKAGES, *SITE_PACKAGES):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        rows.append(_grimp_row(package, root, package))
    flask_src = SHARED_REPOS / "flask" / "src"
    if flask_src.is_dir():
        sys.path.insert(0, str(flask_src))
        rows.append(_grimp_row("flask", SHARED_REPOS / "flask", "flask", prefix="src/flask/"))
        sys.path.remove(str(flask_src))
    return rows


def _grimp_row(package: str, root: Path, name: str, prefix: str = "") -> Row:
    import grimp

    ours, order, ours_s, _ = our_graph(root, suffixes=[".py"])
    files = set(order)
    start = time.perf_counter()
    graph = grimp.build_graph(package, cache_dir=None)
    peer_s = time.perf_counter() - start

    def module_file(module: str) -> str | None:
        rel = "/".join(module.split(".")[1:])
        for candidate in (f"{rel}.py", f"{rel}/__init__.py" if rel else "__init__.py"):
            if prefix + candidate in files:
                return prefix + candidate
        return None
    truth = set()
    for module in graph.modules:
        importer = module_file(module)
        for imported in graph.find_modules_directly_imported_by(module):
            target = module_file(imported)
            if importer and target and importer != target:
                truth.add((importer, target))
    # grimp sees the package's modules only: not folders without `__init__.py` (namespace
    # packages such as flask's `sansio/`, test folders), nor files outside the package.
    known = {f for m in graph.modules if (f := module_file(m))}
    unseen = frozenset((a, b) for a, b in ours if a not in known or b not in known)
    ours = {(a, b) for a, b in ours if a in known and b in known}
    return Row("python", name, len(files), ours, truth, order, ours_s, peer_s, unseen=unseen)


# --- C: gcc -MM ------------------------------------------------------------------------------
def fetch_sdists(cache: Path) -> list[Path]:
    """C sources of a few PyPI sdists, downloaded with pip and unpacked into the cache."""
    folder = cache / "sdists"
    folder.mkdir(parents=True, exist_ok=True)
    roots = []
    for requirement in C_SDISTS:
        name = requirement.split("==")[0].lower()
        found = [p for p in folder.iterdir() if p.is_dir() and p.name.lower().startswith(name)]
        if not found:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--no-binary", ":all:", "--dest", str(folder), requirement],
                           check=True)
            archive = next(p for p in folder.iterdir() if p.name.lower().startswith(name)
                           and p.name.endswith((".tar.gz", ".zip")))
            if archive.name.endswith(".zip"):
                with zipfile.ZipFile(archive) as handle:
                    handle.extractall(folder)
            else:
                with tarfile.open(archive) as handle:
                    handle.extractall(folder, filter="data")
            found = [p for p in folder.iterdir() if p.is_dir()
                     and p.name.lower().startswith(name)]
        roots.extend(found[:1])
    return roots


def c_rows(sdists: list[Path]) -> list[Row]:
    rows = []
    python_include = sysconfig.get_paths()["include"]
    for root in sdists:
        include_dirs = _header_dirs_and_parents(root)
        ours, order, ours_s, _ = our_graph(root, include_dirs=include_dirs,
                                           suffixes=[".c", ".h", ".cc", ".cpp", ".hpp"])
        files = set(order)
        graph = nx.DiGraph(sorted(ours))
        sources = sorted(f for f in files if f.endswith((".c", ".cc", ".cpp", ".cxx")))
        configs = [[], *[[f"-D{m}"] for m in _platform_macros(root, files)]]
        truth: set[tuple[str, str]] = set()
        start = time.perf_counter()
        for source in sources:
            for defines in configs:
                command = ["gcc" if source.endswith(".c") else "g++", "-MM", "-MG", *defines,
                           "-isystem", python_include,
                           *[f"-I{d or '.'}" for d in include_dirs], source]
                result = subprocess.run(command, cwd=root, capture_output=True, text=True,
                                        check=False)
                deps = result.stdout.replace("\\\n", " ").split(":", 1)[-1].split()
                truth.update((source, os.path.normpath(dep)) for dep in deps
                             if os.path.normpath(dep) in files
                             and os.path.normpath(dep) != source)
        peer_s = time.perf_counter() - start
        ours_closed = {(source, dep) for source in sources if source in graph
                       for dep in nx.descendants(graph, source)}
        # A header a source reaches through others must still come before it: the order
        # check holds for transitive truth too.
        rows.append(Row("c", root.name, len(files), ours_closed, truth, order, ours_s,
                        peer_s))
    return rows


def _header_dirs_and_parents(root: Path) -> list[str]:
    """Include path for both tools: every folder holding a header, and the folders above it
    (so `#include "lib/x.h"` written against a parent folder resolves as in the real build)."""
    found: set[str] = set()
    for folder, _, names in os.walk(root):
        if any(n.endswith((".h", ".hh", ".hpp")) for n in names):
            rel = os.path.relpath(folder, root)
            while rel not in ("", ".") and rel not in found:
                found.add(rel)
                rel = os.path.dirname(rel)
    return [*sorted(found), ""]


def _platform_macros(root: Path, files: set[str]) -> list[str]:
    """Platform switches the sources test (`_WIN32`, `PSUTIL_OSX`, ...): gcc sees one
    configuration per run, our graph is configuration-free, so truth is the union."""
    macros: set[str] = set()
    for rel in files:
        text = (root / rel).read_text("utf-8", "replace")
        for line in re.findall(r"^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif)\b.*$", text, re.M):
            macros.update(m for m in re.findall(r"\b\w+\b", line) if PLATFORM.search(m))
    return sorted(macros)


# --- TypeScript: tsc ---------------------------------------------------------------------------
def fetch_tsc(cache: Path) -> Path | None:
    folder = cache / "typescript"
    tsc = folder / "node_modules" / ".bin" / "tsc"
    if not tsc.exists() and shutil.which("npm"):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        str(folder), TYPESCRIPT], check=True)
    return tsc if tsc.exists() else None


def fetch_npm_packages(cache: Path) -> list[Path]:
    """`npm pack` each of NPM_TS_PACKAGES into the cache and unpack it (never installed)."""
    roots = []
    for spec in NPM_TS_PACKAGES:
        folder = cache / "npm" / spec.replace("/", "_")
        if not (folder / "package").is_dir() and shutil.which("npm"):
            folder.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(["npm", "pack", "--silent", spec], cwd=folder,
                                    capture_output=True, text=True, check=True)
            with tarfile.open(folder / result.stdout.strip().splitlines()[-1]) as handle:
                handle.extractall(folder, filter="data")
        if (folder / "package").is_dir():
            roots.append(folder / "package")
    return roots


_TS_RESOLVING = re.compile(r"^======== Resolving module '([^']+)' from '([^']+)'\. ========$")
_TS_RESOLVED = re.compile(r"^======== Module name '([^']+)' was successfully resolved to "
                          r"'([^']+)'")


def tsc_rows(roots: list[Path], tsc: Path) -> list[Row]:
    rows = []
    for root in roots:
        ours, order, ours_s, _ = our_graph(root)
        files = set(order)
        start = time.perf_counter()
        result = subprocess.run([str(tsc), "-p", ".", "--listFilesOnly", "--traceResolution"],
                                cwd=root, capture_output=True, text=True, check=False)
        peer_s = time.perf_counter() - start
        truth, program = set(), set()
        importer = None
        for line in result.stdout.splitlines():
            if (match := _TS_RESOLVING.match(line)):
                importer = os.path.relpath(match.group(2), root)
            elif (match := _TS_RESOLVED.match(line)) and importer:
                target = os.path.relpath(match.group(2), root)
                if importer in files and target in files and importer != target:
                    truth.add((importer, target))
                importer = None
            elif line.startswith("/") and not line.startswith("===="):
                program.add(os.path.relpath(line.strip(), root))
        ours = {(a, b) for a, b in ours if a in program}  # tsc's program: its importers
        name = root.parent.name if root.name == "package" else root.name  # npm pack
        rows.append(Row("ts", name, len(files & program), ours, truth, order, ours_s, peer_s))
    return rows


def js_rows(roots: list[Path], depcruise: str) -> list[Row]:
    rows = []
    for root in roots:
        ours, order, ours_s, _ = our_graph(root)
        files = set(order)
        # Source-level dependencies, as our graph has them: keep TS imports the compiler
        # would elide (type-only, unused) instead of the post-compilation view.
        options = {"tsPreCompilationDeps": True, "exclude": {"path": "node_modules"},
                   "doNotFollow": {"path": "node_modules"}}
        if (root / "tsconfig.json").exists():
            options["tsConfig"] = {"fileName": "tsconfig.json"}
        with tempfile.NamedTemporaryFile("w", suffix=".cjs", delete=False) as config:
            config.write(f"module.exports = {json.dumps({'options': options})};\n")
        start = time.perf_counter()
        result = subprocess.run([depcruise, "--config", config.name, "--output-type", "json",
                                 "."], cwd=root, capture_output=True, text=True, check=False)
        os.unlink(config.name)
        peer_s = time.perf_counter() - start
        if result.returncode not in (0, 1) or not result.stdout.strip():
            print(f"depcruise failed on {root}: {result.stderr[:300]}", file=sys.stderr)
            continue
        truth = set()
        for module in json.loads(result.stdout)["modules"]:
            source = os.path.normpath(module["source"])
            for dep in module.get("dependencies", []):
                target = os.path.normpath(dep.get("resolved", ""))
                if dep.get("coreModule") or dep.get("couldNotResolve"):
                    continue
                if source in files and target in files and source != target:
                    truth.add((source, target))
        rows.append(Row("js/ts", root.name, len(files), ours, truth, order, ours_s, peer_s))
    return rows


# --- Go: go list -------------------------------------------------------------------------------
def go_rows(cache: Path) -> list[Row]:
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True,
                            check=True).stdout.strip()
    src = (Path(goroot) / "src").resolve()
    copy = cache / "go-std"  # our reader sees a folder with `module std`, as GOROOT/src has
    if not copy.exists():
        copy.mkdir(parents=True)
        (copy / "go.mod").write_text("module std\n")
        for tree in GO_STD_TREES:
            shutil.copytree(src / tree, copy / tree, symlinks=True)
    ours, order, ours_s, _ = our_graph(copy, suffixes=[".go"])
    files = set(order)
    start = time.perf_counter()
    members: dict[str, set[str]] = {}  # import path -> files in some build
    platforms = subprocess.run(["go", "tool", "dist", "list"], capture_output=True, text=True,
                               check=True).stdout.split()
    # Every platform, plus one run with every custom tag the sources test (`gofuzz`,
    # `gccgo`...), as the C rows take the union over platform macros.
    tags = sorted(_go_custom_tags(copy) - {"ignore"})
    configs = [(*p.split("/"), ()) for p in platforms] + [("linux", "amd64",
                                                            ("-tags", ",".join(tags)))]
    for goos, goarch, extra in configs:
        env = {**os.environ, "GOOS": goos, "GOARCH": goarch, "GOPROXY": "off"}
        patterns = [f"{tree}/..." for tree in GO_STD_TREES]
        result = subprocess.run(["go", "list", "-e", "-json", *extra, *patterns], cwd=src,
                                env=env, capture_output=True, text=True, check=False)
        for package in _json_stream(result.stdout):
            if "Dir" not in package:
                continue
            rel = os.path.relpath(Path(package["Dir"]).resolve(), src)
            built = package.get("GoFiles", []) + package.get("CgoFiles", [])
            members.setdefault(package["ImportPath"], set()).update(
                f"{rel}/{name}" for name in built)
    importers = sorted({f for found in members.values() for f in found} & files)
    helper = cache / "goimports" / "main.go"
    helper.parent.mkdir(parents=True, exist_ok=True)
    helper.write_text(_GO_IMPORTS_HELPER)
    result = subprocess.run(["go", "run", str(helper)], input="\n".join(importers), cwd=src,
                            capture_output=True, text=True, check=True)
    truth = set()
    for line in result.stdout.splitlines():
        importer, _, path = line.partition("\t")
        truth.update((importer, target) for target in members.get(path, ())
                     if target in files and target != importer)
    peer_s = time.perf_counter() - start
    covered = set(importers)
    ours = {(a, b) for a, b in ours if a in covered}  # go list's packages: its importers
    return [Row("go", "go-std:" + ",".join(GO_STD_TREES[:3]) + ",...", len(files), ours,
                truth, order, ours_s, peer_s)]


def _go_custom_tags(root: Path) -> set[str]:
    """Build tags named in `//go:build` lines that are not a platform or a Go version."""
    platforms = set(subprocess.run(["go", "tool", "dist", "list"], capture_output=True,
                                   text=True, check=True).stdout.replace("/", " ").split())
    tags: set[str] = set()
    for path in root.rglob("*.go"):
        if not path.is_file() or "testdata" in path.parts:
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("//go:build"):
                    tags.update(re.findall(r"[A-Za-z_][\w.]*", line[len("//go:build"):]))
                elif line.startswith("package "):
                    break
    return {t for t in tags if t not in platforms and not t.startswith("go1")
            and t not in ("unix", "cgo", "gc")}


def _json_stream(text: str) -> list[dict]:
    decoder, position, out = json.JSONDecoder(), 0, []
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        value, position = decoder.raw_decode(text, position)
        out.append(value)
    return out


# --- Rust: cargo metadata + rustc ------------------------------------------------------------
@dataclass
class Crate:
    root: str  # crate root file, repo-relative
    edition: str
    package: str  # package manifest folder, repo-relative
    crate_type: str
    configs: list[tuple[str, ...]]  # rustc flag sets whose union is the graph's view
    files: list[str]  # module files (rustc dep-info, union over configs)


def rust_rows(root: Path, cache: Path) -> list[Row]:
    ours, order, ours_s, _ = our_graph(root)
    files = set(order)
    start = time.perf_counter()
    work = cache / f"rust-{root.name}"  # rustc and cargo run on a copy, never the input
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(root, work, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    metadata = _cargo_metadata(work)
    root = work
    crates: list[Crate] = []
    visible: dict[str, set[str]] = {}  # crate root -> library roots it may name
    libs: dict[str, str] = {}  # package folder -> lib root
    for package in metadata["packages"]:
        folder = _rel(os.path.dirname(package["manifest_path"]), root)
        for target in package["targets"]:
            if target["kind"][0] in ("lib", "rlib", "proc-macro"):
                libs[folder] = _rel(target["src_path"], root)
    for package in metadata["packages"]:
        folder = _rel(os.path.dirname(package["manifest_path"]), root)
        deps = {libs[_rel(d["path"], root)] for d in package["dependencies"]
                if d.get("path") and _rel(d["path"], root) in libs}
        # The graph is configuration-free: every feature off, and every feature on.
        features = [f'feature="{name}"' for name in sorted(package.get("features", {}))]
        configs = [("--test",)] + ([("--test", *[a for f in features for a in ("--cfg", f)])]
                                   if features else [])
        for target in package["targets"]:
            src = _rel(target["src_path"], root)
            kind = target["kind"][0]
            crate_type = "lib" if kind in ("lib", "rlib", "proc-macro") else "bin"
            module_files = _rust_dep_files(work, src, target["edition"], crate_type,
                                           [(), *configs])
            crates.append(Crate(src, target["edition"], folder, crate_type, configs,
                                module_files))
            visible[src] = deps | ({libs[folder]} if folder in libs and libs[folder] != src
                                   else set())
    truth: set[tuple[str, str]] = set()
    for crate in crates:
        truth |= _rust_module_edges(work, crate)
        truth |= _rust_ablation_edges(work, crate)
    peer_s = time.perf_counter() - start
    truth = {(a, b) for a, b in truth if a in files and b in files and a != b}
    crates_of: dict[str, set[str]] = {}
    for crate in crates:
        for rel in crate.files:
            crates_of.setdefault(rel, set()).add(crate.root)
    lib_files = {c.root: set(c.files) for c in crates if c.crate_type == "lib"}
    cross = {(a, b) for a, b in ours if a in crates_of and b in crates_of
             and not crates_of[a] & crates_of[b]}
    inner = ours - cross
    # A cross-crate edge is right when its target is a module of a library the importer's
    # crate may name (a path dependency, or its own package's library).
    cross_truth = {(a, b) for a, b in cross
                   if any(b in lib_files.get(lib, ()) for crate in crates_of[a]
                          for lib in visible.get(crate, ()))}
    shutil.rmtree(work)
    name = work.name.removeprefix("rust-")
    return [Row("rust", name, len(files), inner, truth, order, ours_s, peer_s),
            Row("rust", f"{name} cross-crate", len(files), cross, cross_truth, order,
                0.0, 0.0)]


def _cargo_metadata(root: Path) -> dict:
    """`cargo metadata` of the workspace, plus of every manifest outside it (a `fuzz/`
    crate with its own Cargo.toml is its own workspace)."""
    def metadata(folder: Path) -> dict:
        result = subprocess.run(["cargo", "metadata", "--no-deps", "--offline",
                                 "--format-version", "1"], cwd=folder, capture_output=True,
                                text=True, check=False)
        return json.loads(result.stdout) if result.returncode == 0 else {"packages": []}
    found = metadata(root)
    known = {os.path.normpath(p["manifest_path"]) for p in found["packages"]}
    for manifest in sorted(root.rglob("Cargo.toml")):
        if str(manifest) not in known and "target" not in manifest.parts:
            extra = metadata(manifest.parent)
            for package in extra["packages"]:
                if os.path.normpath(package["manifest_path"]) not in known:
                    known.add(os.path.normpath(package["manifest_path"]))
                    found["packages"].append(package)
    return found


def _rel(path: str, root: Path) -> str:
    rel = os.path.relpath(path, root)
    return "" if rel == "." else rel


def _rustc(work: Path, crate_root: str, edition: str, crate_type: str, *extra: str
           ) -> list[dict]:
    command = ["rustc", "--edition", edition, "--crate-type", crate_type, "--error-format",
               "json", "--emit", f"dep-info={work / '.lw.d'}", "--crate-name", "lw",
               "-A", "warnings", *extra, crate_root]
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
    return [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]


def _rust_dep_files(work: Path, crate_root: str, edition: str, crate_type: str,
                    configs: list[tuple[str, ...]]) -> list[str]:
    found: list[str] = []
    for extra in configs:
        _rustc(work, crate_root, edition, crate_type, *extra)
        text = (work / ".lw.d").read_text() if (work / ".lw.d").exists() else ""
        first = text.split("\n\n", 1)[0].replace("\\\n", " ")
        found += [os.path.normpath(p) for p in first.split(":", 1)[-1].split()
                  if p.endswith(".rs")]
    return sorted(set(found))


def _rust_module_edges(work: Path, crate: Crate) -> set[tuple[str, str]]:
    """`mod` edges from rustc's module tree: each file's module path, read back from a
    `compile_error!(concat!("LWMOD ", module_path!()))` appended to every module file."""
    originals = {f: (work / f).read_text() for f in crate.files}
    marker = '\ncompile_error!(concat!("LWMOD ", module_path!()));\n'
    modules: dict[str, set[str]] = {}  # module path -> files (cfg alternatives: several)
    try:
        for rel, text in originals.items():
            (work / rel).write_text(text + marker)
        for extra in [(), *crate.configs]:
            for message in _rustc(work, crate.root, crate.edition, crate.crate_type, *extra):
                if message["message"].startswith("LWMOD "):
                    spans = [s for s in message["spans"] if s.get("is_primary")]
                    if spans:
                        modules.setdefault(message["message"][6:], set()).add(
                            os.path.normpath(spans[0]["file_name"]))
    finally:
        for rel, text in originals.items():
            (work / rel).write_text(text)
    edges = set()
    for module, rels in modules.items():
        parent = module.rpartition("::")[0]
        while parent and parent not in modules:  # an inline `mod a { mod b; }`
            parent = parent.rpartition("::")[0]
        if parent:
            edges.update((owner, rel) for owner in modules[parent] for rel in rels)
    return edges


_MOD_DECL = re.compile(r"^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*;",
                       re.M)
_ATTR_LINE = re.compile(r"^\s*#\[.*\]\s*$")


def _attribute_of_mod(lines: list[str], index: int) -> bool:
    """Is line `index` one of the attribute lines right above a `mod x;`?"""
    for line in lines[index + 1:]:
        if _MOD_DECL.match(line):
            return True
        if not _ATTR_LINE.match(line):
            return False
    return False


def _rust_ablation_edges(work: Path, crate: Crate) -> set[tuple[str, str]]:
    """file -> G when rustc fails to resolve a path in `file` once G's items are removed."""
    def resolution_errors(messages: list[dict]) -> set[tuple[str, str]]:
        found = set()
        for message in messages:
            code = (message.get("code") or {}).get("code")
            if code in RUST_RESOLUTION_CODES:
                for span in message["spans"]:
                    if span.get("is_primary"):
                        found.add((os.path.normpath(span["file_name"]),
                                   f"{span['line_start']}:{span['column_start']}:{code}"))
        return found
    # `--test` (cfg(test) on) is a superset of the normal build's code; features off / on.
    baseline = {config: resolution_errors(_rustc(work, crate.root, crate.edition,
                                                 crate.crate_type, *config))
                for config in crate.configs}
    edges = set()
    for target in crate.files:
        path = work / target
        original = path.read_text()
        lines = original.split("\n")
        kept = [line for i, line in enumerate(lines) if _MOD_DECL.match(line)
                or (_ATTR_LINE.match(line) and _attribute_of_mod(lines, i))]
        path.write_text("\n".join(kept) + "\n")
        try:
            for config in crate.configs:
                errors = resolution_errors(_rustc(work, crate.root, crate.edition,
                                                  crate.crate_type, *config))
                edges.update((importer, target) for importer, _ in errors - baseline[config]
                             if importer != target)
        finally:
            path.write_text(original)
    return edges


# --- the table ---------------------------------------------------------------------------------
PEERS = {"python": "grimp", "c": "gcc -MM", "ts": "tsc", "js/ts": "dependency-cruiser",
         "go": "go list", "rust": "rustc"}


def print_diff(rows: list[Row], limit: int = 40) -> None:
    """The edges each side has alone (what to look at when a score drops)."""
    for row in rows:
        for label, edges in (("only ours", row.ours - row.truth),
                             ("only truth", row.truth - row.ours)):
            for importer, imported in sorted(edges)[:limit]:
                print(f"  {row.language} {row.name} {label}: {importer} -> {imported}")
        for importer, imported in row.violations()[:limit]:
            print(f"  {row.language} {row.name} order violation: {importer} -> {imported}")


def print_table(rows: list[Row]) -> None:
    print(f"{'language':8} {'repository':30} {'files':>6} {'ours':>6} {'truth':>6} "
          f"{'prec':>6} {'recall':>6} {'viol':>5} {'ours s':>7} {'peer s':>7}")
    totals: dict[str, list] = {}
    for row in rows:
        precision, recall = score(row.ours, row.truth)
        violations = len(row.violations())
        print(f"{row.language:8} {row.name[:30]:30} {row.files:6d} {len(row.ours):6d} "
              f"{len(row.truth):6d} {precision:6.3f} {recall:6.3f} {violations:5d} "
              f"{row.ours_s:7.2f} {row.peer_s:7.2f}")
        total = totals.setdefault(row.language, [0, 0, 0, 0, 0.0, 0.0])
        total[0] += len(row.ours & row.truth)
        total[1] += len(row.ours)
        total[2] += len(row.truth)
        total[3] += violations
        total[4] += row.ours_s
        total[5] += row.peer_s
    print()
    for language, (hit, ours, truth, violations, ours_s, peer_s) in totals.items():
        peer = PEERS[language]
        print(f"TOTAL {language:6} precision {hit / max(ours, 1):.3f} recall "
              f"{hit / max(truth, 1):.3f} order violations outside cycles {violations} "
              f"(edges ours {ours}, {peer} {truth}); time ours/{peer} = "
              f"{ours_s / max(peer_s, 1e-9):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="python,c,ts,go,rust",
                        help="comma-separated: python, c, ts, js, go, rust")
    parser.add_argument("--c-sdist", type=Path, nargs="*", default=None,
                        help="C source folders (default: fetch a few sdists with pip)")
    parser.add_argument("--js-root", type=Path, nargs="*", default=[])
    parser.add_argument("--ts-root", type=Path, nargs="*", default=None,
                        help="default: ../shared/data/repos/taxonomy and NPM_TS_PACKAGES")
    parser.add_argument("--rust-root", type=Path, nargs="*",
                        default=[SHARED_REPOS / "ripgrep"])
    parser.add_argument("--depcruise", default=shutil.which("depcruise") or
                        "/tmp/lw_depcruise/node_modules/.bin/depcruise")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir())
                        / "lw_repo_graph_cache")
    parser.add_argument("--diff", action="store_true", help="list the edges that differ")
    args = parser.parse_args()
    only = set(args.only.split(","))
    args.cache.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    if "python" in only:
        rows += python_rows()
    if "c" in only and shutil.which("gcc"):
        sdists = args.c_sdist if args.c_sdist is not None else fetch_sdists(args.cache)
        rows += c_rows([p for p in sdists if p.is_dir()])
    if "ts" in only and (tsc := fetch_tsc(args.cache)):
        ts_roots = args.ts_root if args.ts_root is not None else [
            SHARED_REPOS / "taxonomy", *fetch_npm_packages(args.cache)]
        rows += tsc_rows([p for p in ts_roots if p.is_dir()], tsc)
    if "js" in only and args.js_root and os.path.exists(args.depcruise):
        rows += js_rows([p for p in args.js_root if p.is_dir()], args.depcruise)
    if "go" in only and shutil.which("go"):
        rows += go_rows(args.cache)
    if "rust" in only and shutil.which("rustc") and shutil.which("cargo"):
        for root in args.rust_root:
            if root.is_dir():
                rows += rust_rows(root, args.cache)
    missing = {"c": "gcc", "go": "go", "rust": "rustc"}
    for language, tool in missing.items():
        if language in only and not shutil.which(tool):
            print(f"skipped {language}: {tool} not installed", file=sys.stderr)
    if args.diff:
        print_diff(rows)
    print_table(rows)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak memory: this process {peak_kib / 1024:.0f} MiB, "
          f"largest peer process {children_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
