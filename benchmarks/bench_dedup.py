"""Near-dedup benchmark: longweave vs datatrove, datasketch MinHashLSH and rensa, one run.

The set: real text (shared books when present, then the standard library's and the
installed packages' Python files, in sorted order) cut into documents, plus two
word-swapped variants of each at controlled edit rates; a variant's truth label is its
family when its exact Jaccard to the original reaches the threshold. Every tool reads the
same JSONL file and writes the kept documents as JSONL ("whole dedup": read, shingle,
hash, LSH, cluster, write), with word 5-grams, 9 bands x 13 rows = 117 permutations and
threshold 0.8. Each tool runs in its own forked process, so its CPU time (MB/s per core)
and its peak resident memory above the process's starting size are its own. Scores are
pair precision / recall / F1 over the clusters.

    python benchmarks/bench_dedup.py --size-mb 10
(datatrove + spacy, rensa: benchmark-only dependencies, `pip install -e ".[bench]"`; a
peer that is not installed is skipped with a note.)

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
DOC_CHARS = 30_000
EDIT_RATES = (0.002, 0.005, 0.01, 0.02, 0.04, 0.08)
MAX_SEEN = 0.2  # share of a piece's shingles already seen that makes it a duplicate
GOALS = {"f1": 0.91, "vs_datatrove": 10.0, "vs_rensa": 1.0}


def _sources() -> Iterator[str]:
    if BOOKS.exists():
        for path in sorted(BOOKS.glob("*.txt")):
            yield path.read_bytes().decode("cp1252")
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
        original = shingle_set(text, params)
        for _ in range(2):
            words = text.split(" ")
            rate = rng.choice(EDIT_RATES)
            for i in rng.sample(range(len(words)), max(1, int(len(words) * rate))):
                words[i] = rng.choice(words)
            variant = " ".join(words)
            docs.append(variant)
            near = jaccard(original, shingle_set(variant, params)) >= params.threshold
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
    return labels


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
    "longweave": run_longweave,
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
    peak = (_status_kb("VmHWM") or after.ru_maxrss) - start_rss
    conn.send((labels, cpu, peak / 1e3))
    conn.close()


def measure(name: str, source: Path, params: MinHashParams, truth: list[int],
            megabytes: float) -> dict[str, float]:
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(name, source, params, send))
    process.start()
    send.close()
    labels, cpu, peak = receive.recv()
    process.join()
    p, r, f1 = pair_scores(labels, truth)
    row = {"precision": p, "recall": r, "f1": f1, "mbps": megabytes / cpu, "cpu": cpu,
           "peak_mb": peak}
    print(f"{name:<11} P={p:.3f} R={r:.3f} F1={f1:.3f}  {row['mbps']:7.2f} MB/s/core "
          f"({cpu:6.1f} s CPU)  peak +{peak:7.1f} MB", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=10.0)
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help="comma-separated subset of " + ",".join(TOOLS))
    parser.add_argument("--beam", action="store_true",
                        help="also time the Beam Dedupe transform on the DirectRunner")
    parser.add_argument("--components", type=int, metavar="EDGES",
                        help="only time connected components on a graph of EDGES edges")
    args = parser.parse_args()
    if args.components:
        return time_components(args.components)
    params = MinHashParams.create(threshold=0.8, num_perm=128)
    docs, truth = build_set(args.size_mb, params)
    megabytes = sum(len(d.encode()) for d in docs) / 1e6
    print(f"{len(docs)} docs, {megabytes:.1f} MB; word {params.ngram}-grams, "
          f"{params.bands} bands x {params.rows} rows = {params.bands * params.rows} perms, "
          f"threshold {params.threshold}, {sum(t >= 0 for t in truth)} docs in families")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "docs.jsonl"
        with source.open("w", encoding="utf-8") as f:
            for i, text in enumerate(docs):
                f.write(json.dumps({"id": f"{i:09d}", "text": text}) + "\n")
        if not args.beam:
            del docs
        results = {name: measure(name, source, params, truth, megabytes)
                   for name in args.tools.split(",") if installed(name)}
    report(results)
    if args.beam:
        run_beam(docs, megabytes)


def report(results: dict[str, dict[str, float]]) -> None:
    if "longweave" not in results:
        return
    ours = results["longweave"]
    for peer in (p for p in results if p != "longweave"):
        print(f"longweave / {peer}: throughput {ours['mbps'] / results[peer]['mbps']:.2f}x, "
              f"peak memory {ours['peak_mb'] / max(results[peer]['peak_mb'], 0.1):.2f}x")
    checks = [f"F1 {ours['f1']:.3f} >= {GOALS['f1']}: {ours['f1'] >= GOALS['f1']}"]
    for peer, goal in (("datatrove", GOALS["vs_datatrove"]), ("rensa", GOALS["vs_rensa"])):
        if peer in results:
            ratio = ours["mbps"] / results[peer]["mbps"]
            met = ratio >= goal if peer == "datatrove" else ratio > goal
            checks.append(f"{ratio:.1f}x {peer} ({'>=' if peer == 'datatrove' else '>'}"
                          f"{goal:g}x): {met}")
    print("goals: " + "; ".join(checks))


def run_beam(docs: list[str], megabytes: float) -> None:
    """End-to-end wall time of the Dedupe transform on the DirectRunner (in memory)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from longweave.pipeline.transforms.dedupe import Dedupe
    from longweave.schemas.document import Document
    from longweave.schemas.recipe_filters import DedupeConfig

    records = [Document(f"{i:09d}", "bench", "text", t) for i, t in enumerate(docs)]
    start = time.perf_counter()
    with beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner"])) as p:
        out = p | beam.Create(records, reshuffle=False) | Dedupe(DedupeConfig())
        _ = out["drops"] | beam.combiners.Count.Globally() | beam.Map(
            lambda n: print(f"beam dedupe dropped {n}"))
    wall = time.perf_counter() - start
    print(f"longweave Beam DirectRunner end-to-end: {wall:.1f} s wall, "
          f"{megabytes / wall:.2f} MB/s")


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
