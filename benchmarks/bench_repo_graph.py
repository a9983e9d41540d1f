"""Edge precision / recall of the repo dependency graph against tools nobody here wrote.

- Python: `grimp` (PyPI) on stdlib packages and installed packages: module-level direct
  imports, mapped to files.
- C / C++: `gcc -MM -MG` per translation unit on the C sources of pip sdists (transitive
  header sets, so our edges are closed transitively from each source file before comparing).
- JavaScript / TypeScript: `dependency-cruiser` (npm) on the sources of real npm packages.

Both sides are restricted to the files our selector keeps, so the score measures
resolution, not file selection. Usage (all inputs are optional; missing ones are skipped):

    python benchmarks/bench_repo_graph.py [--c-sdist DIR ...] [--js-root DIR ...]
        [--depcruise /tmp/lw_depcruise/node_modules/.bin/depcruise]

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
import tempfile
import time
from pathlib import Path

import networkx as nx

from longweave.schemas.document import Document
from longweave.schemas.recipe_sources import RepoOptions
from longweave.schemas.spans import FILE, label_value
from longweave.sources.repos import RepoReader

STDLIB_PACKAGES = ("email", "json", "importlib", "xml", "http", "asyncio", "concurrent",
                   "logging", "unittest", "multiprocessing", "urllib", "sqlite3", "tomllib")
PLATFORM = re.compile(r"^(_WIN32|_WIN64|__APPLE__|__linux__|__FreeBSD__|__OpenBSD__|__NetBSD__"
                      r"|__sun|_AIX|__CYGWIN__|__MINGW32__|_MSC_VER|\w+_(LINUX|OSX|MACOS|WINDOWS"
                      r"|FREEBSD|OPENBSD|NETBSD|SUNOS|AIX|BSD|POSIX))$")
SITE_PACKAGES = ("pathspec", "yaml", "pydantic", "networkx", "luigi", "datasketch", "grimp")


def our_graph(root: Path, **options: object) -> tuple[set[tuple[str, str]], set[str], float]:
    """Our edges and selected files for one repository folder, and the seconds it took."""
    start = time.perf_counter()
    docs = list(RepoReader.read("bench", str(root), RepoOptions(**options)))
    elapsed = time.perf_counter() - start
    doc = docs[0]
    if not isinstance(doc, Document):
        raise RuntimeError(f"{root}: {doc}")
    order = [label_value(s.label, FILE) for s in doc.spans_with_prefix(FILE)]
    edges = {(order[i], order[j]) for i, j, _ in doc.meta["dependency_edges"]}
    return edges, set(order), elapsed


def score(ours: set, truth: set) -> tuple[float, float]:
    hit = len(ours & truth)
    precision = hit / len(ours) if ours else 1.0
    recall = hit / len(truth) if truth else 1.0
    return precision, recall


def python_rows() -> list[tuple]:
    import grimp

    rows = []
    for package in (*STDLIB_PACKAGES, *SITE_PACKAGES):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        ours, files, ours_s = our_graph(root, suffixes=[".py"])
        start = time.perf_counter()
        graph = grimp.build_graph(package, cache_dir=None)
        peer_s = time.perf_counter() - start

        def module_file(name: str, files: set[str] = files) -> str | None:
            rel = "/".join(name.split(".")[1:])
            for candidate in (f"{rel}.py", f"{rel}/__init__.py" if rel else "__init__.py"):
                if candidate in files:
                    return candidate
            return None
        truth = set()
        for module in graph.modules:
            importer = module_file(module)
            for imported in graph.find_modules_directly_imported_by(module):
                target = module_file(imported)
                if importer and target and importer != target:
                    truth.add((importer, target))
        rows.append(("python", package, len(files), ours, truth, ours_s, peer_s))
    return rows


def c_rows(sdists: list[Path]) -> list[tuple]:
    rows = []
    python_include = sysconfig.get_paths()["include"]
    for root in sdists:
        include_dirs = _header_dirs_and_parents(root)
        ours, files, ours_s = our_graph(root, include_dirs=include_dirs)
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
        rows.append(("c/c++", root.name, len(files), ours_closed, truth, ours_s, peer_s))
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


def js_rows(roots: list[Path], depcruise: str) -> list[tuple]:
    rows = []
    for root in roots:
        ours, files, ours_s = our_graph(root)
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
        rows.append(("js/ts", root.name, len(files), ours, truth, ours_s, peer_s))
    return rows


def print_table(rows: list[tuple]) -> None:
    print(f"{'language':8} {'repository':24} {'files':>6} {'ours':>6} {'truth':>6} "
          f"{'prec':>6} {'recall':>6} {'ours s':>7} {'peer s':>7}")
    totals: dict[str, list] = {}
    for language, name, files, ours, truth, ours_s, peer_s in rows:
        precision, recall = score(ours, truth)
        print(f"{language:8} {name[:24]:24} {files:6d} {len(ours):6d} {len(truth):6d} "
              f"{precision:6.3f} {recall:6.3f} {ours_s:7.2f} {peer_s:7.2f}")
        total = totals.setdefault(language, [0, 0, 0, 0.0, 0.0])
        total[0] += len(ours & truth)
        total[1] += len(ours)
        total[2] += len(truth)
        total[3] += ours_s
        total[4] += peer_s
    print()
    peers = {"python": "grimp", "c/c++": "gcc -MM", "js/ts": "dependency-cruiser"}
    for language, (hit, ours, truth, ours_s, peer_s) in totals.items():
        print(f"TOTAL {language:6} precision {hit / max(ours, 1):.3f} recall "
              f"{hit / max(truth, 1):.3f} (edges ours {ours}, {peers[language]} {truth}); "
              f"time ours/{peers[language]} = {ours_s / max(peer_s, 1e-9):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--c-sdist", type=Path, nargs="*", default=[])
    parser.add_argument("--js-root", type=Path, nargs="*", default=[])
    parser.add_argument("--depcruise", default=shutil.which("depcruise") or
                        "/tmp/lw_depcruise/node_modules/.bin/depcruise")
    args = parser.parse_args()
    rows = python_rows()
    if shutil.which("gcc"):
        rows += c_rows([p for p in args.c_sdist if p.is_dir()])
    if args.js_root and os.path.exists(args.depcruise):
        rows += js_rows([p for p in args.js_root if p.is_dir()], args.depcruise)
    print_table(rows)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak memory: this process {peak_kib / 1024:.0f} MiB, "
          f"largest peer process {children_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
