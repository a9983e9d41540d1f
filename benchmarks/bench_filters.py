"""Filter-stage throughput: longweave's DocumentFilter against datatrove's filters, same run.

Peer: datatrove 0.10's GopherQualityFilter -> GopherRepetitionFilter -> C4QualityFilter ->
PIIFormatter, chained as in a datatrove pipeline (a document dropped by one step is not
seen by the next), each called directly on datatrove Documents. Ours: `DocumentFilter`
with the default `FilterConfig` (per-chunk prose/code/trajectory rules, language id,
secret and PII redaction). Both run in this process on the same documents, read by the
project's own readers:
  - books: /work/shared/data/books through `BookReader` (chapter spans);
  - code: standard-library packages through `RepoReader` (one document per package);
  - agents: /work/shared/data/trajectories through `TrajectoryReader`.
Throughput is MB of UTF-8 text per CPU second of this process (= per core); peak memory
is tracemalloc's peak in a second, traced pass (Python and NumPy allocations).

Run: python benchmarks/bench_filters.py [--repeats R] [--no-memory]
"""

from __future__ import annotations

import argparse
import sysconfig
from collections.abc import Callable
from pathlib import Path

import bench_common as _common

from longweave.filters.document_filter import DocumentFilter
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_filters import FilterConfig

DATA = Path(_common.PROJECT_ROOT).parent / "shared" / "data"
STDLIB_PACKAGES = ("json", "email", "asyncio", "concurrent", "importlib", "logging", "urllib",
                   "http", "xml", "unittest", "sqlite3", "collections", "html", "re",
                   "multiprocessing", "ctypes", "tomllib", "zoneinfo", "xmlrpc", "wsgiref")


def _read_all(reader, source: str, paths: list[str], options) -> list[Document]:
    docs = []
    for locator in reader.locate(paths, options):
        docs.extend(d for d in reader.read(source, locator, options) if isinstance(d, Document))
    return docs


def real_corpus() -> dict[str, list[Document]]:
    """Books, standard-library repositories and agent sessions, as the collect stage reads them."""
    from longweave.schemas.recipe_sources import BookOptions, RepoOptions, TrajectoryOptions
    from longweave.sources.books.reader import BookReader
    from longweave.sources.repos.reader import RepoReader
    from longweave.sources.trajectories.reader import TrajectoryReader

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    packages = [str(stdlib / name) for name in STDLIB_PACKAGES if (stdlib / name).is_dir()]
    corpus = {"code": _read_all(RepoReader, "code", packages, RepoOptions())}
    if (DATA / "books").is_dir():
        corpus["books"] = _read_all(BookReader, "books", [str(DATA / "books")], BookOptions())
    if (DATA / "trajectories").is_dir():
        corpus["agents"] = _read_all(TrajectoryReader, "agents", [str(DATA / "trajectories")],
                                     TrajectoryOptions())
    return {name: docs for name, docs in sorted(corpus.items()) if docs}


def longweave_runner() -> Callable[[list[Document]], int]:
    """Returns a function that filters documents and counts the drops."""
    doc_filter = DocumentFilter(FilterConfig())
    _ = doc_filter.language  # the model loads once, outside the timing (a DoFn's setup)

    def run(docs: list[Document]) -> int:
        return sum(isinstance(doc_filter(doc), Drop) for doc in docs)

    return run


def datatrove_runner() -> Callable[[list[Document]], int]:
    """datatrove's Gopher + C4 filters and PII formatter, chained like its pipeline."""
    from datatrove.data import Document as DatatroveDocument
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.pipeline.formatters import PIIFormatter

    steps = [GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter()]
    pii = PIIFormatter()
    # Warm the spaCy tokenizer the Gopher quality filter loads on first use.
    steps[0].filter(DatatroveDocument(text="A warm-up sentence. " * 20, id="warm-up"))

    def keeps(doc: Document) -> bool:
        item = DatatroveDocument(text=doc.text, id=doc.id, metadata={})
        for step in steps:
            verdict = step.filter(item)
            if not (verdict[0] if isinstance(verdict, tuple) else verdict):
                return False
        item.text = pii.format(item.text)
        return True

    def run(docs: list[Document]) -> int:
        return sum(not keeps(doc) for doc in docs)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="best CPU time of R runs")
    parser.add_argument("--no-memory", action="store_true", help="skip the traced pass")
    args = parser.parse_args()

    corpus = real_corpus()
    corpus["all"] = [doc for docs in corpus.values() for doc in docs]
    runners = {"longweave": longweave_runner(), "datatrove": datatrove_runner()}
    print(f"{'corpus':8s} {'docs':>5s} {'MB':>6s} | {'longweave':>22s} | {'datatrove':>22s} "
          f"| {'ratio':>6s}")
    print(f"{'':8s} {'':>5s} {'':>6s} | {'MB/s/core drop% MiB':>22s} | "
          f"{'MB/s/core drop% MiB':>22s} | {'lw/dt':>6s}")
    for name, docs in corpus.items():
        mb = _common.total_mb(docs)
        cells, speeds = [], []
        for runner in runners.values():
            timed = min((_common.measure(lambda r=runner, d=docs: r(d), trace_memory=False)
                         for _ in range(max(1, args.repeats))), key=lambda m: m.cpu_seconds)
            peak = 0.0 if args.no_memory else _common.measure(
                lambda r=runner, d=docs: r(d), trace_memory=True).peak_mb
            speed = mb / max(timed.cpu_seconds, 1e-9)
            speeds.append(speed)
            cells.append(f"{speed:9.2f} {100 * timed.result / len(docs):5.1f} {peak:6.1f}")
        print(f"{name:8s} {len(docs):5d} {mb:6.2f} | {cells[0]:>22s} | {cells[1]:>22s} "
              f"| {speeds[0] / speeds[1]:5.1f}x")
    print(f"peak RSS of the process: {_common.peak_rss_mb():.0f} MiB")


if __name__ == "__main__":
    main()
