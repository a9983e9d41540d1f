"""Grounded question families on real rows: per family, samples, drops and the evidence
distance (chars / 4 as tokens, the builder's own estimate without a tokenizer) as
quantiles and as a share of the bucket. Every sample was accepted by its family checker.

    python benchmarks/bench_synth_families.py --set demo --bucket 32768 --samples 44
    python benchmarks/bench_synth_families.py --set shared --bucket 32768 --samples 44
"""

from __future__ import annotations

import argparse
import statistics
import sysconfig
from collections import Counter, defaultdict
from pathlib import Path

from longweave.schemas.document import Document
from longweave.schemas.recipe_sources import BookOptions, RepoOptions, TrajectoryOptions
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.sources.books import BookReader
from longweave.sources.repos import RepoReader
from longweave.sources.trajectories import TrajectoryReader
from longweave.synth.build import synthesize_all

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
SITE = Path(sysconfig.get_paths()["purelib"])
DEMO_STDLIB = ("json", "email", "asyncio", "concurrent", "importlib", "logging", "urllib",
               "http", "xml", "unittest", "sqlite3", "zoneinfo", "tomllib", "wsgiref",
               "xmlrpc", "collections", "html", "dbm", "re", "venv", "multiprocessing",
               "ctypes")
DEMO_PACKAGES = ("luigi", "yaml", "datasketch", "fsspec", "dill", "networkx")


def rows(which: str) -> list[Document]:
    out: list[Document] = []
    if which == "demo":  # the demo recipe's code repositories
        paths = [STDLIB / n for n in DEMO_STDLIB] + [SITE / n for n in DEMO_PACKAGES]
        for path in paths:
            if path.is_dir():
                out += [d for d in RepoReader.read("code", str(path), RepoOptions())
                        if isinstance(d, Document)]
        return out
    for name in ("flask", "ripgrep", "taxonomy"):
        out += [d for d in RepoReader.read("code", str(SHARED / "repos" / name), RepoOptions())
                if isinstance(d, Document)]
    for path in sorted((SHARED / "books").glob("*.txt")):
        out += [d for d in BookReader.read("books", str(path), BookOptions())
                if isinstance(d, Document)]
    options = TrajectoryOptions()
    for locator in TrajectoryReader.locate([str(SHARED / "trajectories")], options):
        out += [d for d in TrajectoryReader.read("agents", locator, options)
                if isinstance(d, Document)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=("demo", "shared"), default="demo")
    parser.add_argument("--bucket", type=int, default=32768)
    parser.add_argument("--samples", type=int, default=44)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    docs = rows(args.set)
    config = SynthesizeConfig.model_validate({"enabled": True, "paraphrase": {
        "enabled": True, "samples_per_bucket": args.samples}})
    out = synthesize_all(docs, config, args.seed, None, [args.bucket])
    distances: dict[str, list[float]] = defaultdict(list)
    samples: Counter[str] = Counter()
    drops: Counter[str] = Counter()
    for item in out:
        if not isinstance(item, Document):
            drops[item.detail.split(": ", 1)[-1]] += 1
            continue
        samples[item.meta["family"]] += 1
        for link in item.meta["questions"]:
            distances[item.meta["family"]].append(link["distance_chars"] / 4)
    print(f"set={args.set} rows={len(docs)} bucket={args.bucket} planned={len(out)} "
          f"built={sum(samples.values())} dropped={sum(drops.values())}")
    print(f"{'family':22} {'n':>3} {'spans':>5} {'p10':>7} {'p50':>7} {'p90':>7} {'p50/bucket':>10}")
    every: list[float] = []
    for family in sorted(samples):
        values = sorted(distances[family])
        every += values
        q = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else (
            values * 9)
        print(f"{family:22} {samples[family]:>3} {len(values):>5} {q[0]:>7.0f} "
              f"{statistics.median(values):>7.0f} {q[8]:>7.0f} "
              f"{statistics.median(values) / args.bucket:>10.2f}")
    print(f"all evidence spans: median {statistics.median(every):.0f} tokens = "
          f"{statistics.median(every) / args.bucket:.2f} of the bucket")
    for reason, n in drops.most_common():
        print(f"drop x{n}: {reason}")


if __name__ == "__main__":
    main()
