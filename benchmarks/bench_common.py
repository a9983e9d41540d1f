"""Shared pieces of the benchmarks: real corpora, timing and peak memory.

The corpus is real text found on any machine: packages of the interpreter's standard
library and of site-packages (one Document per package, files marked with `file:` spans so
the segmenter can split at file boundaries, like the repo reader's output), plus the books
in ../shared/data/books (beside the project) when that folder exists.
"""

from __future__ import annotations

import resource
import sysconfig
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from longweave.schemas.document import Document, Span, make_document_id
from longweave.schemas.spans import file_label

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BOOKS_DIR = PROJECT_ROOT.parent / "shared" / "data" / "books"

STDLIB_PACKAGES = ("json", "email", "asyncio", "concurrent", "importlib", "logging", "urllib",
                   "http", "xml", "unittest", "sqlite3", "collections", "html", "re",
                   "multiprocessing", "ctypes", "tomllib", "zoneinfo", "xmlrpc", "wsgiref")
SITE_PACKAGES = ("luigi", "yaml", "datasketch", "fsspec", "dill", "networkx", "pydantic",
                 "pyarrow", "apache_beam", "numpy")
MAX_FILE_CHARS = 400_000  # a generated table bigger than this is not code worth timing


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Measured:
    """Wall and CPU time (all threads) and the tracemalloc peak (Python + NumPy) of a call.

    CPU time is the steadier figure on a machine shared with other jobs: it does not grow
    while the process waits for a core.
    """

    seconds: float
    cpu_seconds: float
    peak_mb: float
    result: object = None


def measure(fn: Callable[[], object], trace_memory: bool = True) -> Measured:
    """Time `fn()`; with `trace_memory`, also its peak traced allocation above the start.

    tracemalloc slows pure-Python code, so timings that matter are taken with it off and
    memory in a second call.
    """
    if trace_memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = 0.0
    if trace_memory:
        _, peak_bytes = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak = (peak_bytes - base) / 2**20
    return Measured(seconds, cpu, peak, result)


@contextmanager
def timed(label: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    print(f"  ({label}: {time.perf_counter() - start:.1f}s)")


def _package_dirs() -> list[tuple[str, Path]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    site = Path(sysconfig.get_paths()["purelib"])
    found = [("stdlib", stdlib / name) for name in STDLIB_PACKAGES]
    found += [("packages", site / name) for name in SITE_PACKAGES]
    return [(source, path) for source, path in found if path.is_dir()]


def readable_py_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(path, text) of the .py files under `root` in path order, skipping caches, files over
    MAX_FILE_CHARS and files that are not UTF-8."""
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts or path.stat().st_size > MAX_FILE_CHARS:
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue


def package_document(source: str, root: Path) -> Document | None:
    """A package folder as one Document: its .py files in path order, one `file:` span each."""
    parts: list[str] = []
    spans: list[Span] = []
    offset = 0
    for path, body in readable_py_files(root):
        rel = path.relative_to(root.parent).as_posix()
        chunk = f"# file: {rel}\n{body}\n"
        spans.append(Span(offset, offset + len(chunk), file_label(rel)))
        parts.append(chunk)
        offset += len(chunk)
    if not parts:
        return None
    return Document(id=make_document_id(source, root.name), source=source, kind="repo",
                    text="".join(parts), spans=spans, meta={"repo": root.name})


def book_documents() -> list[Document]:
    """The shared books as Documents (no chapter spans: long plain text)."""
    if not BOOKS_DIR.is_dir():
        return []
    docs = []
    for path in sorted(BOOKS_DIR.glob("*.txt")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        docs.append(Document(id=make_document_id("books", path.name), source="books",
                             kind="book", text=text, meta={"title": path.stem}))
    return docs


def file_documents(max_docs: int | None = None) -> list[Document]:
    """Every .py file of the benchmark packages as its own Document (many short documents)."""
    docs = []
    for source, root in _package_dirs():
        for path, text in readable_py_files(root):
            if text.strip():
                rel = path.relative_to(root.parent).as_posix()
                docs.append(Document(id=make_document_id(source, rel), source=source,
                                     kind="text", text=text))
            if max_docs is not None and len(docs) >= max_docs:
                return docs
    return docs


def repo_corpus(max_doc_chars: int | None = None) -> list[Document]:
    """One Document per package (long, with file spans) plus the shared books.

    `max_doc_chars` leaves out the few huge packages (numpy, apache_beam) to keep a run short.
    """
    docs = [d for source, root in _package_dirs() if (d := package_document(source, root))]
    docs += book_documents()
    if max_doc_chars is not None:
        docs = [d for d in docs if len(d.text) <= max_doc_chars]
    return docs


def total_mb(docs: list[Document]) -> float:
    return sum(len(d.text.encode("utf-8")) for d in docs) / 1e6


def train_tokenizer(docs: list[Document], budget_chars: int = 3_000_000, vocab: int = 8192):
    """A byte-level BPE trained on the head of every document (code and prose both count)."""
    from longweave.pipeline.packing.tokenizer import train_bpe

    share = max(1, budget_chars // max(1, len(docs)))
    return train_bpe([d.text[:share] for d in docs], vocab_size=vocab, min_frequency=2)


def build_segments(docs: list[Document], buckets: list[int], batch_size: int = 64) -> list:
    """Segments of `docs` as the Tokenize stage makes them (trained tokenizer, EOS on)."""
    from longweave.pipeline.packing.encode import tokenize_documents
    from longweave.pipeline.packing.segments import Segment
    from longweave.pipeline.packing.tokenizer import special_ids
    from longweave.schemas.recipe_pack import TokenizerConfig

    tokenizer = train_tokenizer(docs)
    specials = special_ids(tokenizer, TokenizerConfig())
    segments = []
    for i in range(0, len(docs), batch_size):
        for item in tokenize_documents(tokenizer, docs[i:i + batch_size], buckets, specials):
            if isinstance(item, dict):
                segments.append(Segment.from_row(item))
    return segments


# --- a process tree's CPU and memory (a CLI run and the Beam workers it starts) ---------

def tree_stats(root: int) -> dict[int, tuple[float, int]]:
    """`pid -> (CPU seconds, resident bytes)` of `root` and its descendants, from /proc."""
    import os

    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    parents: dict[int, int] = {}
    stats: dict[int, tuple[float, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        stats[pid] = ((int(fields[11]) + int(fields[12])) / tick, int(fields[21]) * page)
    members, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        for pid, parent in parents.items():
            if parent == current and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return {pid: stats[pid] for pid in members if pid in stats}


@dataclass
class TreeUsage:
    """What a process tree used: CPU seconds (the children's rusage when larger than the
    sampled sum, which misses a process's last interval), the largest single process's
    resident peak and the largest sum over the tree (MB), and wall seconds."""

    cpu_seconds: float
    largest_mb: float
    total_mb: float
    seconds: float


def run_tree(command: list[str], interval: float = 0.2, **popen: object) -> TreeUsage:
    """Run `command` to completion, sampling its process tree every `interval` seconds;
    a failing command raises with its output."""
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               **popen)
    cpu: dict[int, float] = {}
    largest = total = 0
    while process.poll() is None:
        stats = tree_stats(process.pid)
        for pid, (seconds, _) in stats.items():
            cpu[pid] = max(cpu.get(pid, 0.0), seconds)
        largest = max([largest, *(rss for _, rss in stats.values())])
        total = max(total, sum(rss for _, rss in stats.values()))
        time.sleep(interval)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{output}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return TreeUsage(max(reaped, sum(cpu.values())), largest / 1e6, total / 1e6,
                     time.perf_counter() - start)


def peak_rss_of(pid: int) -> int:
    """A live process's own resident high-water mark (VmHWM, bytes; 0 once it is gone): the
    true peak between two samples, which sampling RSS can miss."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
