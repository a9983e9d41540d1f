"""Scale curve: the whole pipeline on 1x, 2x and 4x a real corpus; time should grow linearly.

The corpus is the interpreter's standard library (packages taken in name order until the
size's byte target is met, each package one repository) plus the books in
../shared/data/books (one more book per size, when present). Each size runs the real
workflow (`longweave run`) in a fresh process on the DirectRunner. The peer is the 1x run
measured here: "vs linear" divides each size's time per input byte by the 1x time per byte
(1.00 = perfectly linear, above 1 = superlinear). Peak memory is the largest sum of RSS over
the run's process tree (sampled from /proc), and the largest single process's peak.

    python benchmarks/bench_scale.py --sizes 1      # CI: under ~3 minutes
    python benchmarks/bench_scale.py --sizes 1 2 4 --base-mb 4
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import yaml

from longweave.jobs.stages import STAGE_ORDER

PROJECT = Path(__file__).resolve().parents[1]
BOOKS_DIR = PROJECT.parent / "shared" / "data" / "books"
CODE_SUFFIXES = (".py",)


def package_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.suffix in CODE_SUFFIXES
               and p.is_file())


def stdlib_packages() -> list[tuple[str, int]]:
    """(name, bytes of .py files) of every stdlib package folder, in name order."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for folder in sorted(stdlib.iterdir()):
        if (folder.is_dir() and (folder / "__init__.py").exists()
                and folder.name not in ("test", "idlelib", "lib2to3", "site-packages")):
            found.append((folder.name, package_bytes(folder)))
    return found


def corpus(scale: int, base_bytes: int) -> tuple[list[str], list[str], int]:
    """(stdlib packages, book files, input bytes) for `scale` x the base corpus."""
    target = scale * base_bytes
    chosen, total = [], 0
    for name, size in stdlib_packages():
        if total >= target:
            break
        if size and size <= target - total + base_bytes // 4:
            chosen.append(name)
            total += size
    books = sorted(str(p) for p in BOOKS_DIR.glob("*.txt"))[:scale] if BOOKS_DIR.is_dir() else []
    return chosen, books, total + sum(os.path.getsize(b) for b in books)


def recipe_for(packages: list[str], books: list[str], workers: int) -> dict:
    sources = [{"name": "code", "kind": "repo", "paths": ["${stdlib}"],
                "options": {"layout": "subdirs", "include": packages}}]
    if books:
        sources.append({"name": "books", "kind": "book", "paths": books})
    return {"name": "scale", "seed": 1, "sources": sources, "filters": {"min_chars": 50},
            "tokenizer": {"train": {"vocab_size": 4096, "sample_chars": 1_000_000}},
            "buckets": [8192, 32768],
            # whole packages render as documents of 13K+ tokens, so at small scales 8192 can
            # get no rows; this measures throughput, not bucket coverage
            "budget": {"allow_empty_buckets": True},
            "runner": {"runner": "DirectRunner", "direct_num_workers": workers,
                       "direct_running_mode": "multi_processing" if workers != 1
                       else "in_memory"}}


def process_rss(root: int) -> dict[int, int]:
    """Resident memory (bytes) of `root` and each of its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * page
    members, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        for pid, parent in parents.items():
            if parent == current and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return {pid: rss.get(pid, 0) for pid in members}


def running_stage(workdir: Path) -> str:
    """The stage the workflow is in: the first one without its `_SUCCESS` marker."""
    for stage in STAGE_ORDER:
        folder = workdir / "pack" / "report" if stage == "report" else workdir / stage
        if not (folder / "_SUCCESS").exists():
            return stage
    return "done"


class MemorySampler:
    """Peak RSS per stage: the whole tree, the driver, and the largest worker process."""

    def __init__(self, root: int, workdir: Path) -> None:
        self.root = root
        self.workdir = workdir
        self.peaks: dict[str, dict[str, int]] = {}

    def sample(self) -> None:
        by_process = process_rss(self.root)
        workers = [n for pid, n in by_process.items() if pid != self.root]
        peak = self.peaks.setdefault(running_stage(self.workdir),
                                     {"tree": 0, "driver": 0, "worker": 0})
        peak["tree"] = max(peak["tree"], sum(by_process.values()))
        peak["driver"] = max(peak["driver"], by_process.get(self.root, 0))
        peak["worker"] = max(peak["worker"], max(workers, default=0))

    def overall(self, key: str) -> int:
        return max((p[key] for p in self.peaks.values()), default=0)


def run_size(scale: int, base_bytes: int, workers: int, root: Path) -> dict:
    packages, books, input_bytes = corpus(scale, base_bytes)
    folder = root / f"x{scale}"
    folder.mkdir()
    recipe = folder / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(recipe_for(packages, books, workers)), encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "longweave.jobs.cli", "run", str(recipe),
                                "--workdir", str(folder / "work")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler_state = MemorySampler(process.pid, folder / "work")

    def sample() -> None:
        while process.poll() is None:
            sampler_state.sample()
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    wall = time.monotonic() - start
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise RuntimeError(f"x{scale} run failed:\n{err.decode(errors='replace')[-2000:]}")
    manifest = json.loads((folder / "work" / "pack" / "manifest.json").read_text())
    records = manifest["ledgers"]["collect"]["in"]
    return {"scale": scale, "packages": len(packages), "books": len(books),
            "input_mb": input_bytes / 1e6, "records": records,
            "tokens": manifest["totals"]["tokens"], "wall_s": wall,
            "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "peak_tree_mb": sampler_state.overall("tree") / 1e6,
            "peak_process_mb": after.ru_maxrss / 1e3, "stages": sampler_state.peaks}


def print_stage_peaks(results: list[dict]) -> None:
    """Peak MB per stage and size: tree / driver / largest worker."""
    sizes = "".join(f"{str(r['scale']) + 'x tree/drv/wrk':>22}" for r in results)
    print(f"\npeak RSS MB per stage{sizes}")
    for stage in STAGE_ORDER:
        cells = ""
        for r in results:
            peak = r["stages"].get(stage)
            cells += (f"{peak['tree'] / 1e6:>10.0f}/{peak['driver'] / 1e6:>5.0f}/"
                      f"{peak['worker'] / 1e6:>5.0f}" if peak else f"{'-':>22}")
        print(f"{stage:<21}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--base-mb", type=float, default=1.5, help="code MB at 1x")
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--keep", help="keep the work folders here")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="longweave-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    results = [run_size(s, int(args.base_mb * 1e6), args.workers, root) for s in args.sizes]
    peer = results[0]
    print(f"{'size':>5} {'input MB':>9} {'records':>8} {'tokens':>10} {'wall s':>8} "
          f"{'rec/s':>7} {'MB/s':>6} {'CPU s':>7} {'CPU s/GB':>9} {'peak tree MB':>13} "
          f"{'peak proc MB':>13} {'vs linear':>9}")
    for r in results:
        linear = (r["wall_s"] / r["input_mb"]) / (peer["wall_s"] / peer["input_mb"])
        print(f"{r['scale']:>4}x {r['input_mb']:>9.2f} {r['records']:>8,} {r['tokens']:>10,} "
              f"{r['wall_s']:>8.1f} {r['records'] / r['wall_s']:>7.2f} "
              f"{r['input_mb'] / r['wall_s']:>6.3f} {r['cpu_s']:>7.1f} "
              f"{r['cpu_s'] / (r['input_mb'] / 1e3):>9,.0f} {r['peak_tree_mb']:>13.0f} "
              f"{r['peak_process_mb']:>13.0f} {linear:>9.2f}")
    print_stage_peaks(results)
    print(f"peer: the {peer['scale']}x run ('vs linear' = time per input MB relative to it); "
          f"work folders under {root}")
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
