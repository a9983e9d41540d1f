"""Near-dedup benchmark: longweave (core and stage) vs datatrove, datasketch and rensa, one run.

The set: real books (../shared/data/books-scale, books the tests never read, then
../shared/data/books; the standard library's and installed packages' Python files only if
those run out), cut into 30,000-character documents; a piece sharing more than a fifth of
its shingles with the pieces before it is held apart (duplicate editions, licence text), so
that the families built here are the only near-duplicates. Each original gets two
word-swapped variants at controlled edit rates; a variant's truth label is its family when
the exact Jaccard of its word 5-gram *strings* to the original reaches the threshold (an
independent check: no longweave hashing). Every tool reads the same JSONL file and writes
the kept documents ("whole dedup": read, shingle, hash, LSH, cluster, write), word 5-grams,
threshold 0.8. longweave runs at its defaults (verified, so the recall-first banding) and
with the balanced banding (`longweave-balanced`, what the peers use: 9 bands x 13 rows);
both print candidate pairs per document. Each tool runs in its own forked process, so its
CPU time (MB/s per core) and its peak memory above the process's starting size are its
own. Scores are pair precision / recall / F1 over the clusters.

    python benchmarks/bench_dedup.py --size-mb 10
    python benchmarks/bench_dedup.py --size-mb 200 --stage
    python benchmarks/bench_dedup.py --size-mb 200 --tools longweave,rensa --stage --repeat 3
(`--repeat N`: each tool N times, round-robin, its fastest run reported: on a shared
machine the speed drifts by a few percent from one minute to the next.)
(datatrove + spacy, rensa: benchmark-only dependencies, `pip install -e ".[bench]"`; a
peer that is not installed is skipped with a note.)

`--stage` also runs the dedupe stage as a user runs it: `longweave run <recipe> --until
dedupe` on a recipe whose text source is the same JSONL file (collect and filter run
first, untimed, passing every document), DirectRunner multi_processing with
`--workers` processes. Its CPU is the whole process tree's (driver, Beam workers, startup
included), its memory the largest single process and the largest sum over the tree.

    python benchmarks/bench_dedup.py --components 1000000
times connected components of a candidate-duplicate graph (string ids, heavy-tailed
cluster sizes) with longweave's union-find against networkx and scipy.sparse.csgraph.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import io
import json
import multiprocessing
import random
import re
import resource
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from longweave.filters.components import union_find
from longweave.filters.minhash import (
    MinHashParams,
    band_keys,
    jaccard,
    shingle_hashes,
    shingle_set,
    signature,
)

BOOKS = Path(__file__).resolve().parents[2] / "shared" / "data" / "books"
BOOKS_SCALE = BOOKS.parent / "books-scale"
DOC_CHARS = 30_000
EDIT_RATES = (0.002, 0.005, 0.01, 0.02, 0.04, 0.08)
MAX_SEEN = 0.2  # share of a piece's shingles already seen that makes it a duplicate
GOALS = {"f1": 0.95, "precision": 0.99, "vs_datatrove": 10.0, "vs_rensa": 1.0}
_EXTRA: dict[str, float] = {}  # figures a tool reports beside its labels (per process)


def _sources() -> Iterator[str]:
    for folder, encoding in ((BOOKS_SCALE, "utf-8"), (BOOKS, "cp1252")):
        for path in sorted(folder.glob("*.txt")) if folder.exists() else []:
            yield path.read_bytes().decode(encoding, errors="replace")
    for root in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]):
        for path in sorted(Path(root).rglob("*.py")):
            yield path.read_text(encoding="utf-8", errors="replace")


def originals(limit_chars: int, params: MinHashParams) -> list[str]:
    """Distinct documents: a piece sharing more than `MAX_SEEN` of its shingles with the
    pieces before it (vendored copies, licence headers, generated code) is skipped, so
    that families are the only near-duplicates the truth knows of."""
    out, total, seen = [], 0, _SeenShingles()
    for text in _sources():
        for start in range(0, len(text) - DOC_CHARS // 3, DOC_CHARS):
            piece = text[start:start + DOC_CHARS]
            if seen.share_then_add(shingle_set(piece, params)) > MAX_SEEN:
                continue
            out.append(piece)
            total += len(piece)
            if total >= limit_chars:
                return out
    return out


class _SeenShingles:
    """A growing multiset of shingle hashes: one sorted array plus a few recent sorted
    ones, merged by a stable sort (linear on sorted runs) every `batch` additions."""

    def __init__(self, batch: int = 32) -> None:
        self.merged = np.empty(0, dtype=np.uint32)
        self.pending: list[np.ndarray] = []
        self.batch = batch

    def share_then_add(self, shingles: np.ndarray) -> float:
        if len(shingles) == 0:
            return 1.0
        hits = np.zeros(len(shingles), dtype=bool)
        for known in (self.merged, *self.pending):
            if len(known):
                at = np.minimum(np.searchsorted(known, shingles), len(known) - 1)
                hits |= known[at] == shingles
        self.pending.append(shingles)
        if len(self.pending) >= self.batch:
            self.merged = np.sort(np.concatenate([self.merged, *self.pending]), kind="stable")
            self.pending = []
        return float(hits.mean())


def build_set(size_mb: float, params: MinHashParams, seed: int = 0
              ) -> tuple[list[str], list[int]]:
    """Documents and their true cluster label (family id, or own index when too edited)."""
    rng = random.Random(seed)
    base = originals(int(size_mb * 1e6 / 3), params)
    docs, labels = [], []
    for family, text in enumerate(base):
        docs.append(text)
        labels.append(family)
        original = set(python_shingles(text, params.ngram))
        for _ in range(2):
            words = text.split(" ")
            rate = rng.choice(EDIT_RATES)
            for i in rng.sample(range(len(words)), max(1, int(len(words) * rate))):
                words[i] = rng.choice(words)
            variant = " ".join(words)
            docs.append(variant)
            grams = set(python_shingles(variant, params.ngram))
            near = len(original & grams) / len(original | grams) >= params.threshold
            labels.append(family if near else -len(docs))
    return docs, labels


def pair_scores(predicted: list[int], truth: list[int]) -> tuple[float, float, float]:
    def pairs(labels: list[int]) -> set[tuple[int, int]]:
        groups: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(label, []).append(i)
        return {p for g in groups.values() for p in combinations(g, 2)}

    got, want = pairs(predicted), pairs(truth)
    tp = len(got & want)
    precision = tp / len(got) if got else 1.0
    recall = tp / len(want) if want else 1.0
    return precision, recall, 2 * precision * recall / ((precision + recall) or 1)


# --- shared JSONL input / output, so every tool pays the same read and write ---------

def read_docs(path: Path) -> Iterator[tuple[int, str]]:
    """(byte offset, text) per line: the offset lets a tool re-read one document later."""
    with path.open("rb") as f:
        offset = 0
        for line in f:
            yield offset, json.loads(line)["text"]
            offset += len(line)


def read_at(f, offset: int) -> str:
    f.seek(offset)
    return json.loads(f.readline())["text"]


def write_kept(source: Path, out: Path, labels: list[int]) -> None:
    """Copy the first member of every cluster (label == own index) to `out`."""
    with source.open("rb") as f, out.open("wb") as sink:
        for i, line in enumerate(f):
            if labels[i] == i:
                sink.write(line)


def clusters_from_edges(n: int, edges: list[tuple[int, int]]) -> list[int]:
    labels = union_find((f"{a:09d}", f"{b:09d}") for a, b in edges)
    return [int(labels.get(f"{i:09d}", f"{i:09d}")) for i in range(n)]


# --- the tools -----------------------------------------------------------------------

def run_longweave(source: Path, out: Path, params: MinHashParams) -> list[int]:
    """Streaming: one pass for band keys (only the first doc per bucket is remembered),
    an exact-Jaccard check of candidate pairs re-reading just those documents, clusters."""
    perms = params.band_permutations()
    heads: dict[tuple[int, int], int] = {}
    offsets: list[int] = []
    edges: set[tuple[int, int]] = set()
    for i, (offset, text) in enumerate(read_docs(source)):
        offsets.append(offset)
        hashes = shingle_hashes(text, params.shingle, params.ngram)
        if len(hashes):
            for key in band_keys(signature(hashes, params, perms), params):
                head = heads.setdefault(key, i)
                if head != i:
                    edges.add((head, i))
    checked, head_set, head_id = [], None, -1
    with source.open("rb") as f:
        for head, member in sorted(edges):
            if head != head_id:
                head_id, head_set = head, shingle_set(read_at(f, offsets[head]), params)
            member_set = shingle_set(read_at(f, offsets[member]), params)
            if jaccard(head_set, member_set) >= params.threshold:
                checked.append((member, head))
    labels = clusters_from_edges(len(offsets), checked)
    write_kept(source, out, labels)
    _EXTRA["candidates_per_doc"] = len(edges) / max(1, len(offsets))
    return labels


def defaults(params: MinHashParams) -> MinHashParams:
    """longweave's own banding for these settings: verified, so recall-first."""
    return MinHashParams.create(params.shingle, params.ngram, params.num_perm,
                                params.threshold, seed=params.seed, verify=True)


def run_longweave_defaults(source: Path, out: Path, params: MinHashParams) -> list[int]:
    return run_longweave(source, out, defaults(params))


STAGE = {"workers": 2}  # set from the command line before the tools fork


def stage_recipe(source: Path, workers: int) -> dict:
    """A recipe whose only source is the benchmark's JSONL and whose filters pass every
    document, so the dedupe stage sees exactly what the other tools see."""
    return {"name": "dedup-bench", "seed": 0,
            "sources": [{"name": "bench", "kind": "text", "paths": [str(source)],
                         "options": {"id_field": "id", "meta_fields": ["idx"]}}],
            "filters": {"kinds": {}, "language_id": False, "redact_pii": False,
                        "redact_secrets": False},
            "dedupe": {"exact": True, "near": True},
            "buckets": [8192],
            "runner": {"runner": "DirectRunner", "direct_num_workers": workers,
                       "direct_running_mode": "multi_processing"}}


def run_stage(source: Path, out: Path, params: MinHashParams) -> list[int]:
    """`longweave run --until dedupe` at the recipe's defaults (only `params.threshold`
    matches: bands and rows are the stage's own choice). Collect and filter run first in
    a separate, untimed CLI call; the timed call finds them done and runs dedupe alone."""
    import pyarrow.parquet as pq
    import yaml
    from bench_common import run_tree

    from longweave.schemas import layout

    work = out.parent / "work"
    recipe = out.parent / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(stage_recipe(source, STAGE["workers"])))
    cli = [sys.executable, "-m", "longweave.jobs.cli", "run", str(recipe), "--workdir",
           str(work), "--until"]
    run_tree([*cli, "filter"])
    used = run_tree([*cli, "dedupe"])
    _EXTRA.update(cpu=used.cpu_seconds, peak_mb=used.largest_mb, total_mb=used.total_mb,
                  wall=used.seconds)
    index: dict[str, int] = {}
    for part in sorted(Path(layout.stage_folder(str(work), "filter"), "documents")
                       .glob("*.parquet")):
        for row in pq.read_table(part, columns=["id", "meta"]).to_pylist():
            index[row["id"]] = json.loads(row["meta"])["idx"]
    edges = []
    for part in sorted(Path(layout.stage_folder(str(work), "dedupe"), "clusters").glob("*")):
        for line in part.read_text().splitlines():
            members = [index[m] for m in json.loads(line)["members"]]
            edges += [(m, members[0]) for m in members[1:]]
    return clusters_from_edges(len(index), edges)


_WORD = re.compile(r"\w+")


def python_shingles(text: str, n: int) -> list[str]:
    words = _WORD.findall(text.lower())
    return [" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))]


def run_datasketch(source: Path, out: Path, params: MinHashParams) -> list[int]:
    from datasketch import MinHash, MinHashLSH

    num_perm = params.bands * params.rows
    lsh = MinHashLSH(num_perm=num_perm, params=(params.bands, params.rows))
    edges, n = [], 0
    for i, (_, text) in enumerate(read_docs(source)):
        mh = MinHash(num_perm=num_perm, seed=params.seed)
        mh.update_batch([s.encode() for s in python_shingles(text, params.ngram)])
        edges.extend((i, int(j)) for j in lsh.query(mh))
        lsh.insert(str(i), mh)
        n = i + 1
    labels = clusters_from_edges(n, edges)
    write_kept(source, out, labels)
    return labels


def run_rensa(source: Path, out: Path, params: MinHashParams) -> list[int]:
    from rensa import RMinHash, RMinHashLSH

    num_perm = params.bands * params.rows
    lsh = RMinHashLSH(params.threshold, num_perm, params.bands)
    edges, n = [], 0
    for i, (_, text) in enumerate(read_docs(source)):
        mh = RMinHash(num_perm, params.seed)
        mh.update(python_shingles(text, params.ngram))
        edges.extend((i, int(j)) for j in lsh.query(mh))
        lsh.insert(i, mh)
        n = i + 1
    labels = clusters_from_edges(n, edges)
    write_kept(source, out, labels)
    return labels


def run_datatrove(source: Path, out: Path, params: MinHashParams) -> list[int]:
    """datatrove's 4 MinHash stages on LocalPipelineExecutors (1 worker: in this process).

    Its config has no threshold: 9 buckets x 13 hashes per bucket = 117 permutations,
    64-bit xxhash shingles (its default; see the patch below), word 5-grams from its own
    spaCy tokenizer after its text simplification. Clusters come from stage 3's
    `.clusters` file; stage 4 writes the kept documents.
    """
    import struct

    import xxhash
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import minhash as dt
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashes import xxhash as datatrove_xxhash
    from loguru import logger

    logger.remove()
    # datatrove 0.10 hands str to xxhash, which xxhash >= 4 refuses: encode first, as
    # xxhash 3 did internally (its sha1 option would be slower, an unfair handicap)
    datatrove_xxhash.xxhash64 = lambda data: xxhash.xxh64_intdigest(
        data.encode() if isinstance(data, str) else data)
    config = dt.MinhashConfig(n_grams=params.ngram, num_buckets=params.bands,
                              hashes_per_bucket=params.rows, seed=params.seed)
    work = out.parent / "datatrove"
    sigs, buckets, ids = str(work / "sigs"), str(work / "buckets"), str(work / "ids")

    def reader() -> JsonlReader:
        return JsonlReader(str(source.parent), glob_pattern=source.name, id_key="id")

    stages = [
        ([reader(), dt.MinhashDedupSignature(sigs, config=config)], 1),
        ([dt.MinhashDedupBuckets(sigs, buckets, config=config)], config.num_buckets),
        ([dt.MinhashDedupCluster(buckets, ids, config=config, save_cluster_id=True)], 1),
        ([reader(), dt.MinhashDedupFilter(ids), JsonlWriter(str(out.parent / "kept"),
                                                            compression=None)], 1),
    ]
    quiet = io.StringIO()  # its executors print a stats summary per stage
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        for number, (pipeline, tasks) in enumerate(stages, 1):
            LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1,
                                  logging_dir=str(work / "logs" / str(number))).run()
    labels = list(range(sum(1 for _ in source.open("rb"))))
    clusters = Path(ids) / "000000.clusters"
    roots: dict[int, int] = {}
    for doc, cluster in struct.iter_unpack("<II", clusters.read_bytes()
                                           if clusters.exists() else b""):
        labels[doc] = roots.setdefault(cluster, doc)
    return labels


TOOLS: dict[str, Callable[[Path, Path, MinHashParams], list[int]]] = {
    "longweave": run_longweave_defaults,
    "longweave-balanced": run_longweave,
    "longweave-stage": run_stage,
    "datatrove": run_datatrove,
    "datasketch": run_datasketch,
    "rensa": run_rensa,
}
NEEDS: dict[str, tuple[str, ...]] = {"datatrove": ("datatrove", "spacy"),
                                     "datasketch": ("datasketch",), "rensa": ("rensa",)}


def installed(name: str) -> bool:
    """Whether a tool's modules import here (peers are optional: the `bench` extra)."""
    missing = [m for m in NEEDS.get(name, ()) if importlib.util.find_spec(m) is None]
    if missing:
        print(f"{name:<11} skipped: {', '.join(missing)} not installed "
              "(pip install -e \".[bench]\")", flush=True)
    return not missing


# --- measurement -----------------------------------------------------------------------

def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _child(name: str, source: Path, params: MinHashParams, conn) -> None:
    """Run one tool; send back (labels, CPU seconds, peak MB above the starting RSS)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark
    except OSError:
        pass
    start_rss = _status_kb("VmRSS")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory() as tmp:
        labels = TOOLS[name](source, Path(tmp) / "kept.jsonl", params)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    peak = ((_status_kb("VmHWM") or after.ru_maxrss) - start_rss) / 1e3
    conn.send((labels, _EXTRA.get("cpu", cpu), _EXTRA.get("peak_mb", peak), dict(_EXTRA)))
    conn.close()


def measure(name: str, source: Path, params: MinHashParams, truth: list[int],
            megabytes: float) -> dict[str, float]:
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(name, source, params, send))
    process.start()
    send.close()
    labels, cpu, peak, extra = receive.recv()
    process.join()
    p, r, f1 = pair_scores(labels, truth)
    return {"precision": p, "recall": r, "f1": f1, "mbps": megabytes / cpu, "cpu": cpu,
            "peak_mb": peak, **extra}


def show(name: str, row: dict[str, float], runs: list[float]) -> None:
    notes = []
    if "candidates_per_doc" in row:
        notes.append(f"{row['candidates_per_doc']:.2f} candidate pairs/doc")
    if "total_mb" in row:
        notes.append(f"all processes {row['total_mb']:.0f} MB, {row['wall']:.1f} s wall")
    if len(runs) > 1:
        notes.append("CPU-s of each run " + ", ".join(f"{c:.1f}" for c in runs))
    print(f"{name:<18} P={row['precision']:.3f} R={row['recall']:.3f} F1={row['f1']:.3f}  "
          f"{row['mbps']:7.2f} MB/s/core ({row['cpu']:6.1f} s CPU)  peak "
          f"{'+' if 'total_mb' not in row else ''}{row['peak_mb']:7.1f} MB"
          + "".join(f"  {n}" for n in notes), flush=True)


def measure_rounds(tools: list[str], repeat: int, *args: Any) -> dict[str, dict[str, float]]:
    """Each tool `repeat` times, round-robin (a slow spell of a shared machine then hits
    every tool alike); a tool's figure is its fastest run (noise only ever adds time),
    its peak memory the largest of its runs."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in tools}
    for _ in range(repeat):
        for name in tools:
            runs[name].append(measure(name, *args))
            if repeat > 1:
                print(f"  ({name}: {runs[name][-1]['cpu']:.1f} s CPU)", flush=True)
    results = {}
    for name, rows in runs.items():
        best = dict(min(rows, key=lambda row: row["cpu"]))
        best["peak_mb"] = max(row["peak_mb"] for row in rows)
        show(name, best, [row["cpu"] for row in rows])
        results[name] = best
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=10.0)
    parser.add_argument("--tools", default=",".join(t for t in TOOLS if t != "longweave-stage"),
                        help="comma-separated subset of " + ",".join(TOOLS))
    parser.add_argument("--stage", action="store_true",
                        help="also run the dedupe stage through the CLI (longweave-stage)")
    parser.add_argument("--workers", type=int, default=2,
                        help="DirectRunner worker processes of the stage run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each tool, round-robin; each reports its fastest")
    parser.add_argument("--components", type=int, metavar="EDGES",
                        help="only time connected components on a graph of EDGES edges")
    args = parser.parse_args()
    if args.components:
        return time_components(args.components)
    STAGE["workers"] = args.workers
    params = MinHashParams.create(threshold=0.8, num_perm=128)
    ours = defaults(params)
    docs, truth = build_set(args.size_mb, params)
    megabytes = sum(len(d.encode()) for d in docs) / 1e6
    print(f"{len(docs)} docs, {megabytes:.1f} MB; word {params.ngram}-grams, threshold "
          f"{params.threshold}, {sum(t >= 0 for t in truth)} docs in families; peers and "
          f"longweave-balanced {params.bands} bands x {params.rows} rows, longweave "
          f"(defaults, verified) {ours.bands} x {ours.rows}")
    tools = args.tools.split(",") + (["longweave-stage"] if args.stage else [])
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "docs.jsonl"
        with source.open("w", encoding="utf-8") as f:
            for i, text in enumerate(docs):
                f.write(json.dumps({"id": f"{i:09d}", "idx": i, "text": text}) + "\n")
        del docs
        results = measure_rounds([n for n in dict.fromkeys(tools) if installed(n)],
                                 args.repeat, source, params, truth, megabytes)
    report(results)


def report(results: dict[str, dict[str, float]]) -> None:
    if "longweave" not in results:
        return
    ours = results["longweave"]
    for peer in (p for p in results if p != "longweave"):
        print(f"longweave / {peer}: throughput {ours['mbps'] / results[peer]['mbps']:.2f}x, "
              f"peak memory {ours['peak_mb'] / max(results[peer]['peak_mb'], 0.1):.2f}x")
    checks = [f"F1 {ours['f1']:.3f} >= {GOALS['f1']}: {ours['f1'] >= GOALS['f1']}",
              f"precision {ours['precision']:.3f} >= {GOALS['precision']}: "
              f"{ours['precision'] >= GOALS['precision']}"]
    for peer, goal in (("datatrove", GOALS["vs_datatrove"]), ("rensa", GOALS["vs_rensa"])):
        if peer in results:
            ratio = ours["mbps"] / results[peer]["mbps"]
            met = ratio >= goal if peer == "datatrove" else ratio > goal
            checks.append(f"{ratio:.1f}x {peer} ({'>=' if peer == 'datatrove' else '>'}"
                          f"{goal:g}x): {met}")
    if "longweave-stage" in results:
        stage = results["longweave-stage"]
        checks.append(f"stage F1 {stage['f1']:.3f} = core {ours['f1']:.3f}: "
                      f"{abs(stage['f1'] - ours['f1']) < 0.005}")
        checks.append(f"stage time {ours['mbps'] / stage['mbps']:.2f}x core's (<= 2): "
                      f"{ours['mbps'] / stage['mbps'] <= 2}")
        if "rensa" in results:
            ratio = stage["mbps"] / results["rensa"]["mbps"]
            checks.append(f"stage {ratio:.2f}x rensa's MB/s per core (>= 1): {ratio >= 1}")
    print("goals: " + "; ".join(checks))


# --- connected components: union-find against the graph libraries ----------------------

def candidate_graph(n_edges: int, seed: int = 0) -> list[tuple[str, str]]:
    """`(high, low)` edges between 32-hex-digit ids, as dedupe's candidate graph has them:
    many small clusters and a few huge ones (Pareto sizes, capped at 5000), each a random
    tree, all edges shuffled."""
    rng = random.Random(seed)
    edges: list[tuple[str, str]] = []
    node = 0
    while len(edges) < n_edges:
        size = min(int(rng.paretovariate(1.2)) + 1, 5000)
        ids = [hashlib.blake2b(str(node + i).encode(), digest_size=16).hexdigest()
               for i in range(size)]
        node += size
        for i in range(1, size):
            a, b = ids[i], ids[rng.randrange(i)]
            edges.append((a, b) if a > b else (b, a))
    del edges[n_edges:]
    rng.shuffle(edges)
    return edges


def networkx_labels(edges: list[tuple[str, str]]) -> dict[str, str]:
    import networkx as nx

    graph = nx.Graph(edges)
    return dict(sorted((node, min(part)) for part in nx.connected_components(graph)
                       for node in part))


def scipy_labels(edges: list[tuple[str, str]]) -> dict[str, str]:
    """csgraph on integer ids; the string <-> integer mapping is part of the job."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index: dict[str, int] = {}
    ends = np.fromiter((index.setdefault(x, len(index)) for e in edges for x in e),
                       dtype=np.int64, count=2 * len(edges)).reshape(-1, 2)
    n = len(index)
    graph = coo_matrix((np.ones(len(ends), dtype=np.int8), (ends[:, 0], ends[:, 1])), (n, n))
    count, component = connected_components(graph, directed=False)
    names = np.array(list(index))
    order = np.argsort(names)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    smallest = np.full(count, n, dtype=np.int64)
    np.minimum.at(smallest, component, rank)
    roots = names[order[smallest]][component]
    return dict(sorted(zip(names.tolist(), roots.tolist(), strict=True)))


def time_components(n_edges: int) -> None:
    edges = candidate_graph(n_edges)
    nodes = len({x for e in edges for x in e})
    print(f"{len(edges)} edges, {nodes} nodes (32-hex-digit ids)")
    labels = None
    for name, run in (("union-find", union_find), ("scipy", scipy_labels),
                      ("networkx", networkx_labels)):
        if name != "union-find" and importlib.util.find_spec(name) is None:
            print(f"{name:<11} skipped: not installed")
            continue
        start = time.process_time()
        got = run(edges)
        cpu = time.process_time() - start
        assert labels is None or got == labels, f"{name} disagrees with union-find"
        labels = got
        print(f"{name:<11} {cpu:6.2f} s CPU  {len(set(got.values()))} components", flush=True)


if __name__ == "__main__":
    sys.exit(main())
