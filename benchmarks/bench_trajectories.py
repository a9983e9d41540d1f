"""Per-format import table over the real sessions in ../shared/data/trajectories.

For every format: files, sessions, raw vs imported counts (turns, tool calls, results),
content pieces and their coverage, once by the reader's own check (`meta.coverage`) and
once by the independent raw extractors of `tests/sources/test_trajectories_coverage.py`
(they read the raw JSON themselves; reused here, not re-written, so the table and the test
can never disagree). The floor is 100% on both and equal counts.

    python benchmarks/bench_trajectories.py [--data ../shared/data/trajectories]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT_ROOT / "tests"), str(PROJECT_ROOT / "tests" / "sources")]

import test_trajectories_coverage as raw  # noqa: E402  (the tests' independent counters)

from longweave.schemas.document import Document  # noqa: E402
from longweave.schemas.recipe_sources import TrajectoryOptions  # noqa: E402
from longweave.sources.trajectories import TrajectoryReader  # noqa: E402

Counter = Callable[[Path], tuple[tuple[int, int, int], list[tuple[str, str]]]]
FORMATS: dict[str, tuple[str, str, Counter]] = {
    "swe-agent": ("swe-agent", "*.traj", lambda p: raw.swe_agent_raw(json.loads(p.read_text()))),
    "openhands": ("openhands", "*.json", lambda p: raw.openhands_raw(json.loads(p.read_text()))),
    "claude-code": ("claude-code", "*.jsonl",
                    lambda p: raw.claude_code_raw(p.read_text().splitlines())),
    "mini-swe-agent": ("mini-swe-agent", "*/*.traj.json",
                       lambda p: raw.mini_swe_raw(json.loads(p.read_text()))),
}


def found(doc: Document, pieces: list[tuple[str, str]]) -> int:
    """Raw pieces found in the text or meta (the test's rule, counted instead of asserted)."""
    count = 0
    for where, piece in pieces:
        try:
            raw.assert_covered(doc, [(where, piece)], "")
        except AssertionError:
            continue
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=raw.DATA)
    args = parser.parse_args()
    options = TrajectoryOptions()
    header = ("format", "files", "sessions", "turns raw/imp", "calls raw/imp",
              "results raw/imp", "pieces", "raw cov", "reader cov", "resolved", "s")
    rows = [header]
    for name, (folder, pattern, counter) in FORMATS.items():
        files = sorted(p for p in (args.data / folder).glob(pattern) if p.is_file())
        if not files:
            continue
        started = time.perf_counter()
        totals = [0] * 6
        pieces = covered = reader_pieces = reader_ok = sessions = resolved = 0
        for path in files:
            (turns, calls, results), file_pieces = counter(path)
            docs = [d for d in TrajectoryReader.read("agents", str(path), options)
                    if isinstance(d, Document)]
            sessions += len(docs)
            for index, value in enumerate((turns, calls, results)):
                totals[2 * index] += value
            for doc in docs:
                totals[1] += doc.meta["steps"]
                totals[3] += doc.meta["tool_calls"]
                totals[5] += doc.meta["observations"]
                reader_pieces += doc.meta["coverage"]["pieces"]
                reader_ok += doc.meta["coverage"]["pieces"] - doc.meta["coverage"]["missing"]
                resolved += doc.meta.get("resolved") is True
            pieces += len(file_pieces)
            covered += found(docs[0], file_pieces) if len(docs) == 1 else 0
        rows.append((name, str(len(files)), str(sessions), f"{totals[0]}/{totals[1]}",
                     f"{totals[2]}/{totals[3]}", f"{totals[4]}/{totals[5]}", str(pieces),
                     f"{100 * covered / max(pieces, 1):.1f}%",
                     f"{100 * reader_ok / max(reader_pieces, 1):.1f}%", str(resolved),
                     f"{time.perf_counter() - started:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
