"""Scale benchmark: the whole workflow on real books and code, stage by stage, against the
tokenizer's own speed.

Each size runs `longweave run` in a fresh process (DirectRunner multi_processing, 2 workers
by default) on a share of one corpus: size s takes s/--full (default 4) of it, so 1x is a
quarter and 4x is all. The default corpus is ../shared/data/books-scale (569 Project
Gutenberg books, 200 MB) plus code read as repositories: the shared repositories (flask,
ripgrep, taxonomy), standard-library packages and installed site-packages, up to
--code-mb MB at 4x. `--paths KIND:PATH ...` benchmarks your own corpus instead (KIND: book,
text, trajectory, repo = one repository, repos = each subfolder one repository).

How the figures are taken. A sampler reads /proc every --interval seconds for the run's
process tree (the driver and every Beam worker): per process CPU time (utime+stime, all
threads) and resident memory. Stage boundaries are the run's own output lines:
`[stage] started` opens a stage and `[stage] done in Ns` closes it; the driver-side work
between one stage's `done` and the next one's `started` (the pack plan, a tokenizer
training sample read on the driver) is counted with the next stage. Per stage: wall, CPU-s
of the whole tree (sum of each process's CPU growth between samples), the largest single
process's peak RSS (and whether it is the driver), the driver's peak RSS, and the driver's
VmHWM (its true high-water mark, read from /proc/<pid>/status) when the stage ends. Checks
printed beside them: the stage's own `stage.json` seconds, and the tree's CPU from the
children's rusage after exit (what sampling misses: a process's last interval).

After the run, raw `tokenizers` `encode_batch` (the tokenizer the run trained, its batch
size in characters, all cores) encodes the texts the tokenize stage read (the synthesize
stage's documents), and the run's wall time is divided by it: 1.0 would be a pipeline as
fast as tokenizing alone.

    python benchmarks/bench_scale.py --sizes 1 --books 8 --code-mb 1   # smoke test, ~2 min
    python benchmarks/bench_scale.py                                   # 1x and 4x
    python benchmarks/bench_scale.py --stagewise --sizes 1   # each stage in a fresh process:
                                                             # a stage's own driver memory
    python benchmarks/bench_scale.py --paths book:/data/gutenberg repos:/src --sizes 1 2 4
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench_common, whatever the cwd

from bench_common import SITE_PACKAGES, peak_rss_of, tree_stats  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "data"
BOOKS_SCALE = SHARED / "books-scale"
SHARED_REPOS = ("flask", "ripgrep", "taxonomy")
STDLIB_SKIP = {"test", "idlelib", "lib2to3", "site-packages", "dist-packages", "ensurepip",
               "pydoc_data", "turtledemo", "tkinter"}
MAX_REPO_MB = 3.0  # a bigger package would be one document dominating the tokenize worker
KINDS = {"book": "books", "text": "text", "trajectory": "trajectories", "repo": "code",
         "repos": "code"}
STAGE_LINE = re.compile(r"^\[([\w-]+)\] (started|done in ([\d.]+)s)")
STARTUP, BETWEEN, EXIT = "startup", "(between)", "exit"
MB = 1e6


# --- the corpus: units (a file or a repository folder) with their bytes --------------------

@dataclass(frozen=True)
class Unit:
    kind: str  # book, text, trajectory or repo
    path: str
    size: int


def _rank(unit: Unit) -> str:
    """A fixed, name-based order that spreads a share over authors and packages (sorted
    names would make 1x the authors A to D) and makes every smaller size a prefix of the
    larger ones."""
    return hashlib.sha256(f"{unit.kind}:{Path(unit.path).name}".encode()).hexdigest()


def _code_bytes(folder: Path) -> int:
    from longweave.schemas.recipe_sources import CODE_SUFFIXES

    total = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".git", "node_modules")]
        for name in files:
            if name.endswith(CODE_SUFFIXES):
                try:
                    total += os.path.getsize(os.path.join(root, name))
                except OSError:
                    continue
    return total


def _files(path: str, suffixes: tuple[str, ...]) -> list[str]:
    if any(ch in path for ch in "*?["):
        return sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
    if os.path.isdir(path):
        return sorted(str(p) for p in Path(path).rglob("*")
                      if p.is_file() and p.name.lower().endswith(suffixes))
    return [path]


def units_from_paths(specs: list[str]) -> list[Unit]:
    """`KIND:PATH` arguments as units; a folder of books, texts or sessions is one unit per
    file, `repos:` one per subfolder, `repo:` the whole folder."""
    from longweave.schemas.recipe_sources import BOOK_SUFFIXES, TEXT_SUFFIXES

    suffixes = {"book": BOOK_SUFFIXES, "text": TEXT_SUFFIXES,
                "trajectory": (".json", ".jsonl", ".traj")}
    units: list[Unit] = []
    for spec in specs:
        kind, sep, path = spec.partition(":")
        if not sep or kind not in KINDS:
            raise SystemExit(f"--paths {spec!r}: write KIND:PATH with KIND one of "
                             f"{', '.join(KINDS)}")
        path = os.path.abspath(os.path.expanduser(path))
        if kind == "repos":
            found = [Unit("repo", str(p), _code_bytes(p)) for p in sorted(Path(path).iterdir())
                     if p.is_dir() and not p.name.startswith(".")]
        elif kind == "repo":
            found = [Unit("repo", path, _code_bytes(Path(path)))]
        else:
            found = [Unit(kind, f, os.path.getsize(f)) for f in _files(path, suffixes[kind])]
        if not found:
            raise SystemExit(f"--paths {spec!r}: nothing found there")
        units += found
    return units


def default_units(books: int | None, code_mb: float) -> list[Unit]:
    """books-scale plus code folders, hash-ranked, the first ones up to `code_mb`; without
    the shared data, code only (said on stderr: such a run measures no books)."""
    if not BOOKS_SCALE.is_dir():
        print(f"note: {BOOKS_SCALE} is absent; code only (pass a corpus with --paths)",
              file=sys.stderr)
    found = sorted((Unit("book", str(p), p.stat().st_size) for p in BOOKS_SCALE.glob("*.txt")),
                   key=_rank)
    found = found[:books] if books is not None else found
    paths = sysconfig.get_paths()
    stdlib, site = Path(paths["stdlib"]), Path(paths["purelib"])
    folders = [SHARED / "repos" / name for name in SHARED_REPOS]
    folders += [p for p in sorted(stdlib.iterdir()) if p.is_dir() and p.name not in STDLIB_SKIP
                and (p / "__init__.py").exists()]
    folders += [site / name for name in SITE_PACKAGES]
    code = [Unit("repo", str(p), _code_bytes(p)) for p in folders if p.is_dir()]
    code = sorted((u for u in code if 0 < u.size <= MAX_REPO_MB * MB), key=_rank)
    taken, total = [], 0
    for unit in code:
        if total >= code_mb * MB:
            break
        taken.append(unit)
        total += unit.size
    return found + taken


def share_of(units: list[Unit], fraction: float) -> list[Unit]:
    """Per kind, the shortest hash-ranked prefix holding `fraction` of the kind's bytes."""
    chosen: list[Unit] = []
    for kind in sorted({u.kind for u in units}):
        ranked = sorted((u for u in units if u.kind == kind), key=_rank)
        target, total = fraction * sum(u.size for u in ranked), 0
        for unit in ranked:
            if total >= target - 0.5:
                break
            chosen.append(unit)
            total += unit.size
    return chosen


def recipe_for(units: list[Unit], workers: int, synth: bool) -> dict:
    sources = []
    for kind in ("book", "repo", "text", "trajectory"):
        paths = [u.path for u in units if u.kind == kind]
        if paths:
            sources.append({"name": KINDS[kind], "kind": kind, "paths": paths})
    recipe = {
        "name": "scale", "seed": 1, "sources": sources, "filters": {"min_chars": 50},
        "dedupe": {"exact": True, "near": True},
        "tokenizer": {"train": {"vocab_size": 8192, "sample_chars": 3_000_000}, "eos": True},
        "buckets": [8192, 32768, 65536],
        # throughput, not bucket coverage: a small smoke corpus may leave a bucket empty
        "budget": {"allow_empty_buckets": True},
        "runner": {"runner": "DirectRunner", "direct_num_workers": workers,
                   "direct_running_mode": "multi_processing" if workers != 1 else "in_memory"},
    }
    if synth:  # the demo's offline families: every stage does real work
        recipe["synthesize"] = {
            "enabled": True, "source": "synthetic",
            "megadocs": {"enabled": True, "buckets": [65536], "max_samples": 4},
            "paraphrase": {"enabled": True, "buckets": [32768], "samples_per_bucket": 6},
            "tasks": {"enabled": True, "buckets": [8192], "samples_per_bucket": 1}}
    return recipe


# --- one run, sampled ---------------------------------------------------------------------

@dataclass
class Figures:
    """One stage's share of a run (bytes and seconds)."""

    wall: float = 0.0
    cpu: float = 0.0
    largest: int = 0
    largest_is_driver: bool = False
    driver: int = 0
    tree: int = 0
    driver_hwm_end: int = 0
    stage_seconds: float | None = None

    def merge(self, other: Figures) -> None:
        self.wall += other.wall
        self.cpu += other.cpu
        if other.largest > self.largest:
            self.largest, self.largest_is_driver = other.largest, other.largest_is_driver
        self.driver = max(self.driver, other.driver)
        self.tree = max(self.tree, other.tree)
        self.driver_hwm_end = max(self.driver_hwm_end, other.driver_hwm_end)


@dataclass
class Run:
    """A sampled process: figures per phase (stage names, startup, exit) in order."""

    phases: dict[str, Figures] = field(default_factory=dict)
    wall: float = 0.0
    sampled_cpu: float = 0.0
    rusage_cpu: float = 0.0
    rusage_maxrss: int = 0
    driver_hwm: int = 0
    starts: dict[str, int] = field(default_factory=dict)  # a stage run twice: a failed done-check


def monitored_run(command: list[str], cwd: Path, interval: float) -> Run:
    """Run `command`, sampling its process tree and splitting the figures at the stage lines
    it prints; a failing run raises with the end of its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
    run, lock = Run(), threading.Lock()
    state = {"phase": STARTUP, "since": start, "hwm": 0}
    pending = Figures()  # driver work after a stage's `done`, given to the next stage
    run.phases[STARTUP] = Figures()
    tail: list[str] = []

    def current() -> Figures:
        return pending if state["phase"] == BETWEEN else run.phases[state["phase"]]

    def switch(phase: str, now: float) -> None:
        nonlocal pending
        figures = current()
        figures.wall += now - state["since"]
        figures.driver_hwm_end = state["hwm"]
        if phase == BETWEEN:
            pending = Figures()
        else:
            target = run.phases.setdefault(phase, Figures())
            if state["phase"] == BETWEEN:
                target.merge(pending)
        state["phase"], state["since"] = phase, now

    def read_lines() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line)
            del tail[:-60]
            match = STAGE_LINE.match(line.strip())
            if not match:
                continue
            with lock:
                if match.group(2) == "started":
                    run.starts[match.group(1)] = run.starts.get(match.group(1), 0) + 1
                    switch(match.group(1), time.monotonic())
                elif match.group(1) == state["phase"]:
                    run.phases[match.group(1)].stage_seconds = float(match.group(3))
                    switch(BETWEEN, time.monotonic())

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    last_cpu: dict[int, float] = {}
    while process.poll() is None:
        stats = tree_stats(process.pid)
        hwm = peak_rss_of(process.pid)
        with lock:
            state["hwm"] = max(state["hwm"], hwm)
            figures = current()
            for pid, (cpu, _) in stats.items():
                figures.cpu += max(0.0, cpu - last_cpu.get(pid, 0.0))
                last_cpu[pid] = cpu
            if stats:
                pid, rss = max(((p, r) for p, (_, r) in stats.items()), key=lambda x: x[1])
                if rss > figures.largest:
                    figures.largest, figures.largest_is_driver = rss, pid == process.pid
                figures.driver = max(figures.driver, stats.get(process.pid, (0, 0))[1])
                figures.tree = max(figures.tree, sum(r for _, r in stats.values()))
        time.sleep(interval)
    reader.join()
    end = time.monotonic()
    with lock:
        switch(EXIT, end)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.wall = end - start
    run.sampled_cpu = sum(f.cpu for f in run.phases.values())
    run.rusage_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run.rusage_maxrss = after.ru_maxrss * 1024
    run.driver_hwm = state["hwm"]
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n"
                           + "".join(tail))
    return run


def stagewise_run(base: list[str], cwd: Path, interval: float) -> Run:
    """Every stage in its own fresh `--until <stage>` process (earlier stages are already
    done, so skipped): each stage's driver figure is its own, not a high-water mark carried
    from the stages before it."""
    from longweave.jobs.stages import STAGE_ORDER

    total = Run()
    for stage in STAGE_ORDER:
        one = monitored_run([*base, "--until", stage], cwd, interval)
        for name, figures in one.phases.items():
            if name in (STARTUP, EXIT):  # this process's start and exit belong to the stage
                figures.stage_seconds = None
                name = stage
            total.phases.setdefault(name, Figures()).merge(figures)
            if figures.stage_seconds is not None:
                total.phases[name].stage_seconds = figures.stage_seconds
        total.wall += one.wall
        total.sampled_cpu += one.sampled_cpu
        total.rusage_cpu += one.rusage_cpu
        total.rusage_maxrss = max(total.rusage_maxrss, one.rusage_maxrss)
        total.driver_hwm = max(total.driver_hwm, one.driver_hwm)
        for name, n in one.starts.items():
            total.starts[name] = total.starts.get(name, 0) + n
    return total


# --- the tokenizer's own speed over the same texts ----------------------------------------

def encode_floor(workdir: Path, batch_chars: int) -> dict:
    """Raw `encode_batch` over the texts the tokenize stage read, with the run's tokenizer,
    in batches of the run's size in characters (reading the Parquet is not timed)."""
    import pyarrow.parquet as pq
    from tokenizers import Tokenizer

    from longweave.schemas import layout

    tokenizer = Tokenizer.from_file(str(workdir / "tokenizer" / layout.TOKENIZER_FILE))
    files = sorted((workdir / "synthesize" / layout.DOCUMENTS_DIR).glob("*.parquet"))
    seconds = cpu = 0.0
    texts_n = chars = tokens = 0

    def encode(batch: list[str]) -> None:
        nonlocal seconds, cpu, tokens
        start, cpu_start = time.perf_counter(), time.process_time()
        encodings = tokenizer.encode_batch(batch)
        seconds += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        tokens += sum(len(e.ids) for e in encodings)

    batch: list[str] = []
    size = 0
    for path in files:
        for record in pq.ParquetFile(path).iter_batches(batch_size=16, columns=["text"]):
            for text in record.column(0).to_pylist():
                batch.append(text)
                size += len(text)
                texts_n += 1
                chars += len(text)
                if size >= batch_chars:
                    encode(batch)
                    batch, size = [], 0
    if batch:
        encode(batch)
    segments = workdir / "tokenize" / layout.SEGMENTS_DIR
    run_tokens = sum(int(pq.read_table(p, columns=["tokens"]).column(0).to_numpy().sum())
                     for p in sorted(segments.glob("*.parquet")))
    return {"texts": texts_n, "chars": chars, "tokens": tokens, "tokenize_tokens": run_tokens,
            "seconds": seconds, "cpu_seconds": cpu}


# --- one size -----------------------------------------------------------------------------

def run_size(scale: float, units: list[Unit], args: argparse.Namespace, root: Path) -> dict:
    chosen = share_of(units, scale / args.full)
    if not chosen:
        raise SystemExit(f"{scale:g}x: the corpus share is empty")
    folder = root / f"x{scale:g}"
    folder.mkdir(parents=True, exist_ok=True)
    import yaml

    recipe = folder / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(recipe_for(chosen, args.workers, not args.no_synth)),
                      encoding="utf-8")
    work = folder / "work"
    command = [sys.executable, "-m", "longweave.jobs.cli", "run", str(recipe),
               "--workdir", str(work)]
    run = (stagewise_run if args.stagewise else monitored_run)(command, folder, args.interval)
    for name, figures in run.phases.items():
        info = work / ("pack/report" if name == "report" else name) / "stage.json"
        if info.exists() and figures.stage_seconds is None:
            figures.stage_seconds = json.loads(info.read_text())["seconds"]
    floor = encode_floor(work, args.batch_chars)
    manifest = json.loads((work / "pack" / "manifest.json").read_text())
    by_kind = {k: (sum(1 for u in chosen if u.kind == k), sum(u.size for u in chosen
                                                              if u.kind == k))
               for k in sorted({u.kind for u in chosen})}
    return {"scale": scale, "units": by_kind, "input_mb": sum(u.size for u in chosen) / MB,
            "records": json.loads((work / "collect" / "ledger.json").read_text())["out"],
            "tokens": manifest["totals"]["tokens"], "run": run, "floor": floor,
            "work": str(work)}


def _mb(n: int) -> str:
    return f"{n / MB:,.0f}"


def print_size(result: dict, workers: int, stagewise: bool) -> None:
    run: Run = result["run"]
    units = ", ".join(f"{n} {kind}{'s' if n != 1 else ''} ({size / MB:.1f} MB)"
                      for kind, (n, size) in result["units"].items())
    mode = "each stage in a fresh process" if stagewise else "one `longweave run` process"
    print(f"\n== {result['scale']:g}x: {units}; {workers} workers, {mode}; {result['work']}")
    print(f"{'stage':<12}{'wall s':>8}{'stage.json':>11}{'CPU s':>8}{'CPU/wall':>9}"
          f"{'largest MB':>11}{' (who)':<8}{'driver MB':>10}{'drv HWM@end':>12}{'tree MB':>9}")
    for name, f in run.phases.items():
        if name == EXIT and not f.cpu and not f.largest:
            continue
        who = "driver" if f.largest_is_driver else ("worker" if f.largest else "")
        stage_s = f"{f.stage_seconds:.1f}" if f.stage_seconds is not None else "-"
        print(f"{name:<12}{f.wall:>8.1f}{stage_s:>11}{f.cpu:>8.1f}"
              f"{f.cpu / f.wall if f.wall else 0:>9.2f}{_mb(f.largest):>11} {who:<7}"
              f"{_mb(f.driver):>10}{_mb(f.driver_hwm_end):>12}{_mb(f.tree):>9}")
    largest = max(run.phases.values(), key=lambda f: f.largest)
    print(f"{'total':<12}{run.wall:>8.1f}{'':>11}{run.sampled_cpu:>8.1f}"
          f"{run.sampled_cpu / run.wall:>9.2f}{_mb(largest.largest):>11} "
          f"{'driver' if largest.largest_is_driver else 'worker':<7}"
          f"{_mb(max(f.driver for f in run.phases.values())):>10}{_mb(run.driver_hwm):>12}")
    print(f"checks: CPU from rusage after exit {run.rusage_cpu:.1f} s (sampled "
          f"{run.sampled_cpu:.1f}); largest process's own peak from rusage "
          f"{_mb(run.rusage_maxrss)} MB; driver VmHWM {_mb(run.driver_hwm)} MB")
    again = {name: n for name, n in run.starts.items() if n > 1}
    if again:
        print(f"note: stages run more than once (a done-check failed, e.g. the code changed "
              f"under the run; their rows add the runs): {again}")
    floor = result["floor"]
    print(f"encode_batch floor: {floor['texts']:,} texts, {floor['chars'] / MB:,.1f}M chars, "
          f"{floor['tokens']:,} tokens (tokenize stage wrote {floor['tokenize_tokens']:,}), "
          f"{floor['seconds']:.1f} s wall, {floor['cpu_seconds']:.1f} CPU-s")
    tokenize = run.phases.get("tokenize")
    tokenize_ratio = (f"; tokenize stage {tokenize.wall / floor['seconds']:.2f}x"
                      if tokenize and floor["seconds"] else "")
    print(f"whole run / encode_batch: {run.wall / max(floor['seconds'], 1e-9):.2f}x wall"
          f"{tokenize_ratio}; CPU-s {run.sampled_cpu / max(floor['cpu_seconds'], 1e-9):.2f}x "
          "(CPU-s move less when other jobs share the cores)")


def print_comparison(results: list[dict]) -> None:
    """The sizes side by side, and the issue's targets against the largest and smallest."""
    from longweave.jobs.stages import STAGE_ORDER

    cells = "".join(f"{format(r['scale'], 'g') + 'x largest/driver':>24}" for r in results)
    print(f"\npeak RSS MB per stage{cells}")
    for stage in [STARTUP, *STAGE_ORDER]:
        row = ""
        for r in results:
            f = r["run"].phases.get(stage)
            row += f"{_mb(f.largest) + ('d' if f.largest_is_driver else 'w'):>15}/" \
                   f"{_mb(f.driver):>8}" if f else f"{'-':>24}"
        print(f"{stage:<21}{row}")
    print("(d: the largest process was the driver, w: a Beam worker)")
    print(f"\n{'size':>5} {'input MB':>9} {'records':>8} {'tokens':>12} {'wall s':>8} "
          f"{'CPU s':>8} {'largest MB':>11} {'driver MB':>10} {'encode s':>9} {'run/encode':>11} "
          f"{'CPU ratio':>10}")
    for r in results:
        run, floor = r["run"], r["floor"]
        largest = max(f.largest for f in run.phases.values())
        driver = max(f.driver for f in run.phases.values())
        print(f"{r['scale']:>4g}x {r['input_mb']:>9.2f} {r['records']:>8,} {r['tokens']:>12,} "
              f"{run.wall:>8.1f} {run.sampled_cpu:>8.1f} {_mb(largest):>11} {_mb(driver):>10} "
              f"{floor['seconds']:>9.1f} {run.wall / max(floor['seconds'], 1e-9):>11.2f} "
              f"{run.sampled_cpu / max(floor['cpu_seconds'], 1e-9):>10.2f}")
    if len(results) > 1:
        small, big = results[0], results[-1]
        top = [max(f.largest for f in r["run"].phases.values()) for r in (small, big)]
        print(f"largest process {big['scale']:g}x / {small['scale']:g}x: "
              f"{top[1] / top[0]:.2f} (target: under 1.5 GB and at most 1.20); "
              f"run/encode at {big['scale']:g}x "
              f"{big['run'].wall / max(big['floor']['seconds'], 1e-9):.2f} (target: at most 1.3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 4],
                        help="shares of the corpus, in units of 1/--full (default: 1 4)")
    parser.add_argument("--full", type=float, default=4, help="the size that is all of it")
    parser.add_argument("--paths", nargs="+", metavar="KIND:PATH",
                        help="your own corpus instead of books-scale and code")
    parser.add_argument("--books", type=int, help="default corpus: only this many books "
                        "at --full (a quick run)")
    parser.add_argument("--code-mb", type=float, default=10.0,
                        help="default corpus: MB of code at --full")
    parser.add_argument("--base-mb", type=float, help="same as --code-mb 4x this (older flag)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-synth", action="store_true", help="synthesize off")
    parser.add_argument("--stagewise", action="store_true",
                        help="each stage in a fresh process (a stage's own driver memory)")
    parser.add_argument("--interval", type=float, default=0.2, help="sampling seconds")
    parser.add_argument("--batch-chars", type=int, default=4_000_000,
                        help="encode_batch batch size in characters (the recipe default)")
    parser.add_argument("--keep", help="keep the work folders here")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    if args.base_mb is not None:
        args.code_mb = args.base_mb * args.full
    units = units_from_paths(args.paths) if args.paths else default_units(args.books,
                                                                          args.code_mb)
    root = Path(args.keep).resolve() if args.keep else Path(
        tempfile.mkdtemp(prefix="longweave-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    results = []
    for scale in args.sizes:
        results.append(run_size(scale, units, args, root))
        print_size(results[-1], args.workers, args.stagewise)
        sys.stdout.flush()
    print_comparison(results)
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{**r, "run": asdict(r["run"])} for r in results], indent=1), encoding="utf-8")
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
