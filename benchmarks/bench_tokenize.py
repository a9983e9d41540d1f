"""Tokenize-stage throughput against raw `tokenizers` `encode_batch` on the same documents.

Peer: `tokenizers.Tokenizer.encode_batch` called on the same batches (TokenizerConfig's
batch_size documents per call) in the same run: the floor any tokenize stage pays. Ours:
  - pure: `longweave.pipeline.packing.encode.tokenize_documents` (encode, offsets, loss mask, split at
    natural boundaries, segment rows), batch by batch;
  - beam: the `Tokenize` transform on the DirectRunner (in_memory), pipeline start included.
Goal: pure / raw >= 0.8. A byte-level BPE (vocab 8192) is trained on part of the corpus
first, so nothing is downloaded.

Run: python benchmarks/bench_tokenize.py [--max-doc-chars N] [--repeats R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_common import Measured, measure, peak_rss_mb, repo_corpus, total_mb, train_tokenizer

from longweave.pipeline.packing.encode import tokenize_documents
from longweave.pipeline.packing.tokenizer import special_ids
from longweave.schemas.document import Document
from longweave.schemas.recipe_pack import TokenizerConfig
from longweave.schemas.tokenizer_file import load_tokenizer

BUCKETS = [8192, 32768, 65536]
TRAIN_CHARS = 3_000_000


def batches(docs: list[Document], size: int) -> list[list[Document]]:
    return [docs[i:i + size] for i in range(0, len(docs), size)]


def run_raw(tokenizer, groups: list[list[Document]]) -> int:
    tokens = 0
    for group in groups:
        encodings = tokenizer.encode_batch([d.text for d in group], add_special_tokens=False)
        tokens += sum(len(e) for e in encodings)
    return tokens


def run_pure(tokenizer, groups: list[list[Document]], specials) -> int:
    tokens = 0
    for group in groups:
        for item in tokenize_documents(tokenizer, group, BUCKETS, specials):
            if isinstance(item, dict):
                tokens += item["tokens"]
    return tokens


def run_beam(tokenizer_path: str, config: TokenizerConfig, stage_dir: str) -> int:
    """Documents read from Parquet as the pack stage reads them, then `Tokenize`.

    (Feeding them with `beam.Create` instead would time the pickling and bz2 compression of
    the whole corpus into the pipeline graph, which the real pipeline never does.)
    """
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from longweave.pipeline.transforms.docio import ReadDocuments
    from longweave.pipeline.transforms.stage import DOCUMENTS
    from longweave.pipeline.transforms.tokenize import Tokenize

    options = PipelineOptions([], runner="DirectRunner", direct_running_mode="in_memory")
    total_file = Path(stage_dir) / "tokens.txt"
    with beam.Pipeline(options=options) as pipeline:
        out = (pipeline
               | ReadDocuments(stage_dir)
               | Tokenize(tokenizer_path, config, BUCKETS))
        _ = (out[DOCUMENTS]
             | beam.Map(lambda row: row["tokens"])
             | beam.CombineGlobally(sum)
             | beam.Map(lambda n: total_file.write_text(str(n))))
    return int(total_file.read_text())


def write_stage(folder: Path, docs: list[Document]) -> str:
    """`docs` as a finished stage's `documents/part-*.parquet`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from longweave.schemas.document import DOCUMENT_SCHEMA

    (folder / "documents").mkdir(parents=True)
    table = pa.Table.from_pylist([d.to_row() for d in docs], schema=DOCUMENT_SCHEMA)
    pq.write_table(table, folder / "documents" / "part-00000.parquet")
    return str(folder)


def interleaved_best(repeats: int, contenders: dict) -> dict[str, Measured]:
    """Fastest run (wall) of each contender, run in turns so machine load hits all alike."""
    runs: dict[str, list[Measured]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            runs[name].append(measure(fn, trace_memory=False))
    return {name: min(found, key=lambda m: m.seconds) for name, found in runs.items()}


def breakdown(tokenizer, groups: list[list[Document]], specials) -> dict[str, float]:
    """CPU seconds of each step `encode_batch` + `segment_document` take, for the profile."""
    import numpy as np

    from longweave.pipeline.packing.segments import Encoded, segment_document

    spent = dict.fromkeys(("encode_batch", "ids to numpy", "offsets to numpy",
                           "segment + to_row"), 0.0)
    for group in groups:
        clock = time.process_time()
        encodings = tokenizer.encode_batch([d.text for d in group], add_special_tokens=False)
        spent["encode_batch"] += time.process_time() - clock
        for doc, enc in zip(group, encodings, strict=True):
            clock = time.process_time()
            ids = np.asarray(enc.ids, dtype=np.int32)
            spent["ids to numpy"] += time.process_time() - clock
            clock = time.process_time()
            starts = np.asarray([o[0] for o in enc.offsets], dtype=np.int64)
            spent["offsets to numpy"] += time.process_time() - clock
            clock = time.process_time()
            for segment in segment_document(Encoded(doc, ids, starts), BUCKETS, specials):
                segment.to_row()
            spent["segment + to_row"] += time.process_time() - clock
    return spent


def describe(label: str, mb: float, run: Measured) -> str:
    return (f"{label:38s} {mb / run.seconds:6.2f} MB/s wall ({run.seconds:6.2f}s), "
            f"{mb / run.cpu_seconds:6.2f} MB/s per CPU-second ({run.cpu_seconds:6.2f}s), "
            f"{int(run.result):,} tokens")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-doc-chars", type=int, default=3_000_000,
                        help="leave out packages longer than this (numpy, apache_beam)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-beam", action="store_true")
    args = parser.parse_args()

    docs = repo_corpus(args.max_doc_chars)
    mb = total_mb(docs)
    config = TokenizerConfig()
    print(f"corpus: {len(docs)} documents (packages with file spans + books), {mb:.1f} MB; "
          f"batch_size {config.batch_size}, buckets {BUCKETS}")
    start = time.perf_counter()
    tokenizer = train_tokenizer(docs, TRAIN_CHARS, vocab=8192)
    print(f"trained byte-level BPE (vocab 8192) on {TRAIN_CHARS / 1e6:.0f}M chars in "
          f"{time.perf_counter() - start:.1f}s; peak RSS {peak_rss_mb():.0f} MB")
    specials = special_ids(tokenizer, config)
    groups = batches(docs, config.batch_size)
    # One untimed pass fills the BPE word cache, which would otherwise favour whoever runs
    # second (the first pass over a corpus is markedly slower).
    run_raw(tokenizer, groups)
    best = interleaved_best(args.repeats, {
        "raw": lambda: run_raw(tokenizer, groups),
        "pure": lambda: run_pure(tokenizer, groups, specials),
    })
    raw, pure = best["raw"], best["pure"]
    print(f"best of {args.repeats}, interleaved:")
    print(describe("raw tokenizers encode_batch (peer)", mb, raw))
    print(describe("pure tokenize_documents (with EOS)", mb, pure))
    print(f"ratio pure / raw: {raw.seconds / pure.seconds:.2f} wall, "
          f"{raw.cpu_seconds / pure.cpu_seconds:.2f} CPU  (goal >= 0.80); "
          f"peak RSS {peak_rss_mb():.0f} MB")

    spent = breakdown(tokenizer, groups, specials)
    total = sum(spent.values())
    print("where the pure path's CPU time goes: " + ", ".join(
        f"{name} {seconds:.2f}s ({seconds / total:.0%})" for name, seconds in spent.items()))

    if not args.skip_beam:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "tokenizer.json")
            tokenizer.save(path)
            stage = write_stage(Path(tmp) / "corpus", docs)
            beam_run = measure(lambda: run_beam(path, config, stage), trace_memory=False)
            tiny = [Document(d.id, d.source, d.kind, d.text[:200]) for d in docs[:2]]
            tiny_stage = write_stage(Path(tmp) / "tiny", tiny)
            start_cost = measure(lambda: run_beam(path, config, tiny_stage), trace_memory=False)
            # Beam's worker loads its own tokenizer, whose BPE cache starts empty: the fair
            # peer is raw encode_batch on a freshly loaded tokenizer too.
            cold = load_tokenizer(path)
            raw_cold = measure(lambda: run_raw(cold, groups), trace_memory=False)
        print(describe("Beam Parquet->Tokenize, Direct in_memory", mb, beam_run)
              + " (pipeline start included)")
        print(describe("raw encode_batch, fresh tokenizer (peer)", mb, raw_cold))
        print(f"ratio beam / raw (fresh tokenizer): {raw_cold.seconds / beam_run.seconds:.2f} "
              f"wall, {raw_cold.cpu_seconds / beam_run.cpu_seconds:.2f} CPU; against the warm "
              f"raw: {raw.seconds / beam_run.seconds:.2f} wall; peak RSS {peak_rss_mb():.0f} MB")
        steady = beam_run.seconds - start_cost.seconds
        print(f"  Beam fixed cost (same pipeline on 2 tiny documents): {start_cost.seconds:.2f}s "
              f"wall; without it, beam / fresh raw = {raw_cold.seconds / steady:.2f} wall")


if __name__ == "__main__":
    main()
