"""Report stage on real novels packed into 16K rows, against datatrove's stats blocks.

Peer: datatrove DocStats + TokenStats (WordStats needs spacy) over the same three books as documents
(datatrove's per-document summary stats), measured in the same run. longweave's report
does more (MinHash near-duplicates, n-gram diversity, re-mention distances, HTML), so the
ratio is the price of the extra measures, not a like-for-like race.

Run: python benchmarks/bench_report.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from report_fixture import BOOKS_DIR, build_book_output  # noqa: E402

from longweave.pipeline.report.build import build_report  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_datatrove(out: Path, stats_dir: Path) -> float:
    from datatrove.data import Document
    from datatrove.pipeline.stats import DocStats, TokenStats

    docs = [Document(text=p.read_bytes().decode("cp1252", errors="replace"), id=p.stem)
            for p in sorted(BOOKS_DIR.glob("*.txt"))]
    groups = ["summary", "histogram"]  # no per-domain groups: documents carry no URL
    steps = [DocStats(str(stats_dir / "doc"), groups),
             TokenStats(str(stats_dir / "tok"), str(out / "tokenizer.json"), groups)]
    start = time.perf_counter()
    for step in steps:
        for _ in step.run(iter(docs)):
            pass
    return time.perf_counter() - start


def main() -> None:
    if not BOOKS_DIR.is_dir():
        sys.exit(f"shared book samples not found at {BOOKS_DIR}")
    with tempfile.TemporaryDirectory() as tmp:
        out = build_book_output(Path(tmp) / "out")
        start = time.perf_counter()
        build_report(str(out))
        ours = time.perf_counter() - start
        ours_peak = peak_mb()
        try:
            peer = run_datatrove(out, Path(tmp) / "dt")
        except ImportError as missing:
            print(f"longweave report: {ours:.2f}s, peak RSS {ours_peak:.0f} MB; "
                  f"datatrove unusable ({missing}), no peer ratio")
            return
        tokens = sum(p.stat().st_size for p in (out / "16384").glob("*.arrow"))
        print(f"longweave report: {ours:.2f}s (shards {tokens / 1e6:.1f} MB), "
              f"peak RSS {ours_peak:.0f} MB")
        print(f"datatrove Doc+Token stats: {peer:.2f}s, peak RSS {peak_mb():.0f} MB")
        print(f"ratio longweave / datatrove: {ours / peer:.2f}x")


if __name__ == "__main__":
    main()
