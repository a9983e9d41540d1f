"""Driver side of the tokenizer, tokenize, pack and report stages.

Pack runs as two Beam jobs with the mixture planned between them on the driver: tokenize
(documents to bucket-sized segments), then pack (copies, best-fit rows, shards). Planning
in between reads only segment lengths and fails on an infeasible mixture before packing.
"""

from __future__ import annotations

import bisect
import json

import apache_beam as beam
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from tokenizers import Tokenizer

from longweave.jobs.progress import say
from longweave.jobs.stages import (
    LEDGER_FILE,
    STAGE_ORDER,
    RunContext,
    commit_stage,
    read_ledger,
    write_ledger_inputs,
)
from longweave.pipeline.packing.mixture import (
    MixturePlan,
    largest_segments,
    plan_mixture,
    share_warnings,
)
from longweave.pipeline.packing.tokenizer import (
    TOKENIZER_FILE,
    load_tokenizer,
    resolve_tokenizer_json,
    special_ids,
    tokenizer_hash,
    train_bpe,
)
from longweave.pipeline.transforms.docio import (
    ReadDocuments,
    WriteRows,
    iter_document_batches,
    read_rows,
)
from longweave.pipeline.transforms.ledger_io import count_as
from longweave.pipeline.transforms.pack import INDEX, PACKED_TOKENS, SHARDS, Pack, write_json_list
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS
from longweave.pipeline.transforms.tokenize import Tokenize
from longweave.schemas import fs
from longweave.schemas.ledger import Ledger
from longweave.schemas.packed import (
    SEGMENT_INDEX_SCHEMA,
    TOKENIZED_SEGMENT_SCHEMA,
    Manifest,
    ShardEntry,
)
from longweave.schemas.seeded import seeded_unit

SEGMENTS_DIR = "segments"
INDEX_DIR = "docs"
MANIFEST_FILE = "manifest.json"
MAX_CHARS_PER_TRAINING_DOC = 200_000


def tokenizer_path(ctx: RunContext) -> str:
    return fs.join(ctx.stage_dir("tokenizer"), TOKENIZER_FILE)


def training_sample(ctx: RunContext) -> list[str]:
    """Texts to train the BPE on: documents ranked by a seeded hash of their id.

    Ranking by hash (not file order) keeps the sample the same whatever the number of
    workers that wrote the documents, so the trained tokenizer is too. The first pass keeps
    only the current sample (a bounded sorted list), not a rank for every document, and
    reads text lengths in Arrow; the second turns only the chosen texts into strings.
    """
    upstream = ctx.stage_dir("dedupe")
    chosen = SampleSelection(ctx.recipe.tokenizer.train.sample_chars)
    for batch in iter_document_batches(upstream, columns=["id", "text"]):
        lengths = pc.min_element_wise(pc.utf8_length(batch.column("text")),
                                      MAX_CHARS_PER_TRAINING_DOC)
        for doc_id, chars in zip(batch.column("id").to_pylist(), lengths.to_pylist(),
                                 strict=True):
            chosen.offer(seeded_unit(ctx.recipe.seed, "tokenizer:" + doc_id), doc_id, chars)
    wanted = pa.array(sorted(chosen.ids()), pa.string())
    texts = {}
    for batch in iter_document_batches(upstream, columns=["id", "text"]):
        picked = batch.filter(pc.is_in(batch.column("id"), value_set=wanted))
        for row in picked.to_pylist():
            texts[row["id"]] = row["text"][:MAX_CHARS_PER_TRAINING_DOC]
    return [texts[doc_id] for doc_id in sorted(texts)]


class SampleSelection:
    """The lowest-ranked documents whose characters first reach `budget`, kept as a stream.

    A document is in the sample when the documents ranked before it hold fewer than
    `budget` characters (the same set as sorting them all and taking a prefix). Offers only
    ever add characters below a rank, so a document pushed out never comes back, and the
    list holds the sample plus at most one document.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.ranked: list[tuple[float, str, int]] = []
        self.total = 0

    def offer(self, rank: float, doc_id: str, chars: int) -> None:
        item = (rank, doc_id, chars)
        if self.ranked and self.total >= self.budget and item > self.ranked[-1]:
            return
        bisect.insort(self.ranked, item)
        self.total += chars
        while self.ranked and self.total - self.ranked[-1][2] >= self.budget:
            self.total -= self.ranked.pop()[2]

    def ids(self) -> list[str]:
        return [doc_id for _, doc_id, _ in self.ranked]


def run_tokenizer(ctx: RunContext) -> None:
    def body(tmp: str) -> None:
        config = ctx.recipe.tokenizer
        named = resolve_tokenizer_json(config)
        if named:
            text = fs.read_bytes(named).decode("utf-8")
            info = {"origin": named}
        else:
            texts = training_sample(ctx)
            if not texts:
                raise ValueError("tokenizer: no documents to train a tokenizer on; name one "
                                 "with tokenizer.path or check the sources and filters")
            trained = train_bpe(texts, config.train.vocab_size, config.train.min_frequency)
            text = trained.to_str()
            info = {"origin": "trained", "documents": len(texts),
                    "chars": sum(len(t) for t in texts),
                    "vocab_size": trained.get_vocab_size()}
        tokenizer = Tokenizer.from_str(text)
        special_ids(tokenizer, config, ctx.recipe.output.pad_token_id)  # fail early if unusable
        fs.write_bytes(fs.join(tmp, TOKENIZER_FILE), text.encode("utf-8"))
        fs.write_json(fs.join(tmp, "info.json"), {**info, "hash": tokenizer_hash(text)})
        say(f"[tokenizer] {info['origin']}, hash {tokenizer_hash(text)}")

    commit_stage(ctx, "tokenizer", body)


def run_tokenize(ctx: RunContext) -> None:
    recipe = ctx.recipe

    def body(tmp: str) -> Ledger:
        def build(pipeline: beam.Pipeline) -> None:
            docs = pipeline | "ReadDocuments" >> ReadDocuments(ctx.stage_dir("synthesize"))
            result = docs | "Tokenize" >> Tokenize(
                tokenizer_path(ctx), recipe.tokenizer, recipe.buckets,
                recipe.output.pad_token_id, recipe.bucket_policy, recipe.seed)
            segments = result[DOCUMENTS]
            segments | "WriteSegments" >> WriteRows(fs.join(tmp, SEGMENTS_DIR),
                                                    TOKENIZED_SEGMENT_SCHEMA)
            # a split document's further pieces are records the split created, so the
            # ledger reads: documents in + extra pieces = segments out + dropped
            pieces = segments | "LaterPieces" >> beam.Filter(lambda r: r["piece"] > 0)
            split = segments | "SplitDocs" >> beam.Filter(
                lambda r: r["piece"] == 0 and r["pieces"] > 1)
            write_ledger_inputs(tmp, result[DROPS], [
                count_as(docs, "in", "CountIn"), count_as(segments, "out", "CountOut"),
                count_as(pieces, "created", "CountPieces"),
                count_as(split, "extra:split_documents", "CountSplit")])

        ctx.run_beam("tokenize", build)
        return read_ledger(tmp, "tokenize")

    commit_stage(ctx, "tokenize", body)


def segment_lengths(segments_dir: str) -> dict[str, list]:
    """The four small columns the mixture plan needs, without reading any token ids.

    Read file by file into plain lists (no concatenated table alongside them); the few
    distinct sources and buckets are shared objects, not one Python object per segment.
    """
    columns = ["segment_id", "source", "bucket", "tokens"]
    out: dict[str, list] = {name: [] for name in columns}
    shared: dict = {}
    for path in fs.glob(fs.join(segments_dir, "*.parquet")):
        with FileSystems.open(path) as handle:
            table = pq.read_table(handle, columns=columns)
        out["segment_id"].extend(table.column("segment_id").to_pylist())
        out["tokens"].extend(table.column("tokens").to_pylist())
        for name in ("source", "bucket"):
            out[name].extend(shared.setdefault(value, value)
                             for value in table.column(name).to_pylist())
    return out


def run_pack(ctx: RunContext) -> None:
    recipe = ctx.recipe

    def body(tmp: str) -> Ledger:
        segments_dir = fs.join(ctx.stage_dir("tokenize"), SEGMENTS_DIR)
        lengths = segment_lengths(segments_dir)
        if not lengths["segment_id"]:
            raise ValueError("pack: no documents reached the pack stage; see the ledgers "
                             "with `longweave status`")
        plan = plan_mixture(recipe, lengths["segment_id"], lengths["source"],
                            lengths["bucket"], lengths["tokens"])
        for problem in share_warnings(plan, largest_segments(
                plan, lengths["source"], lengths["bucket"], lengths["tokens"])):
            say(f"[pack] warning: mixture {problem}")
        tokenizer = load_tokenizer(tokenizer_path(ctx))
        pad_id = special_ids(tokenizer, recipe.tokenizer, recipe.output.pad_token_id).pad
        work = fs.join(tmp, "_work")

        def build(pipeline: beam.Pipeline) -> None:
            rows = read_rows(pipeline, fs.join(segments_dir, "*.parquet"))
            result = rows | "Pack" >> Pack(plan, recipe.output, pad_id, tmp)
            (result[SHARDS] | "AllShards" >> beam.combiners.ToList()
             | "WriteShardList" >> beam.Map(write_json_list, fs.join(work, "shards.json")))
            (result[PACKED_TOKENS] | "AllPacked" >> beam.combiners.ToList()
             | "WritePacked" >> beam.Map(write_json_list, fs.join(work, "packed.json")))
            result[INDEX] | "WriteIndex" >> WriteRows(fs.join(tmp, INDEX_DIR),
                                                      SEGMENT_INDEX_SCHEMA)
            write_ledger_inputs(tmp, result[DROPS], [
                count_as(rows, "in", "CountIn"), count_as(result[INDEX], "out", "CountOut")])

        ctx.run_beam("pack", build)
        ledger = read_ledger(tmp, "pack")
        shards = [ShardEntry(**s) for s in fs.read_json(fs.join(work, "shards.json"))]
        packed = {(s, b): n for (s, b), n in fs.read_json(fs.join(work, "packed.json"))}
        fs.remove_tree(work)
        ledger.extra.update({"rows": sum(s.rows for s in shards),
                             "pad_tokens": sum(s.pad_tokens for s in shards)})
        write_manifest(ctx, tmp, plan, shards, packed, ledger)
        return ledger

    commit_stage(ctx, "pack", body)


def mixture_summary(ctx: RunContext, plan: MixturePlan, packed: dict[tuple[str, int], int]
                    ) -> dict:
    """Target against actual token shares per source, and tokens per bucket."""
    recipe = ctx.recipe
    total = sum(packed.values()) or 1
    by_source: dict[str, int] = {}
    by_bucket: dict[str, dict[str, int]] = {}
    for (source, bucket), n in sorted(packed.items()):
        by_source[source] = by_source.get(source, 0) + n
        by_bucket.setdefault(str(bucket), {})[source] = n
    target: dict[str, float] = {}
    for entry in recipe.mixture:
        target[entry.source] = round(target.get(entry.source, 0.0) + entry.share, 6)
    available: dict[str, int] = {}
    for e in plan.entries.values():
        available[e.source] = available.get(e.source, 0) + e.available
    return {
        "target": target or {s: round(n / total, 6) for s, n in by_source.items()},
        "actual": {s: round(n / total, 6) for s, n in sorted(by_source.items())},
        "tokens": {s: {"available": available.get(s, n),
                       "target": int(round(target.get(s, n / total) * plan.budget)),
                       "packed": n} for s, n in sorted(by_source.items())},
        "by_bucket": by_bucket,
        "plan": plan.to_json(),
    }


def write_manifest(ctx: RunContext, out: str, plan: MixturePlan, shards: list[ShardEntry],
                   packed: dict[tuple[str, int], int], pack_ledger: Ledger) -> None:
    """manifest.json: every shard, the recipe and hashes, the mixture and all ledgers."""
    text = fs.read_bytes(tokenizer_path(ctx)).decode("utf-8")
    fs.write_bytes(fs.join(out, TOKENIZER_FILE), text.encode("utf-8"))
    manifest = Manifest(
        recipe_name=ctx.recipe.name, recipe_hash=ctx.recipe.recipe_hash,
        tokenizer_hash=tokenizer_hash(text), buckets=list(ctx.recipe.buckets),
        shards=sorted(shards, key=lambda s: (s.bucket, s.path)),
        mixture=mixture_summary(ctx, plan, packed),
        recipe=ctx.recipe.model_dump(mode="json"))
    data = manifest.to_json()
    ledgers = {}
    for stage in STAGE_ORDER[: STAGE_ORDER.index("pack")]:
        path = fs.join(ctx.stage_dir(stage), LEDGER_FILE)
        if fs.exists(path):
            ledgers[stage] = fs.read_json(path)
    ledgers["pack"] = pack_ledger.to_json()
    data["ledgers"] = ledgers
    fs.write_bytes(fs.join(out, MANIFEST_FILE),
                   (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def run_report(ctx: RunContext) -> None:
    def body(tmp: str) -> None:
        from longweave.pipeline.report.build import build_report

        build_report(ctx.stage_dir("pack"), tmp, runner_args=_report_runner_args(ctx))

    commit_stage(ctx, "report", body)


def _report_runner_args(ctx: RunContext) -> list[str]:
    from longweave.jobs.runner import beam_args

    return beam_args(ctx.recipe.runner, ctx.beam_args)
