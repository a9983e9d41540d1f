"""One driver per stage, in flow order: build the stage's Beam job (or driver-side work),
run it, and commit the stage folder with its ledger.

A driver only wires: what a stage reads and writes is in `longweave.pipeline.transforms`
(the Beam shells) and `longweave.pipeline.packing` / `report` (the logic).
"""

from __future__ import annotations

from collections.abc import Callable

import apache_beam as beam
from tokenizers import Tokenizer

from longweave.jobs.context import RunContext, commit_stage, read_counts_ledger
from longweave.jobs.progress import say
from longweave.schemas import fs, layout
from longweave.schemas.ledger import Ledger


def tokenizer_file(ctx: RunContext) -> str:
    """The tokenizer the tokenizer stage committed (every later stage uses this one)."""
    return fs.join(ctx.stage_dir("tokenizer"), layout.TOKENIZER_FILE)


def _document_stage(ctx: RunContext, stage: str, upstream: str | None,
                    make_transform: Callable[[], beam.PTransform]) -> None:
    from longweave.pipeline.transforms.stage import document_stage

    def body(tmp: str) -> Ledger:
        upstream_dir = ctx.stage_dir(upstream) if upstream else None
        ctx.run_beam(stage, lambda pipeline: document_stage(
            pipeline, stage.capitalize(), upstream_dir, make_transform, tmp))
        return read_counts_ledger(tmp, stage)

    commit_stage(ctx, stage, body)


def run_collect(ctx: RunContext) -> None:
    from longweave.pipeline.transforms.collect import Collect

    _document_stage(ctx, "collect", None, lambda: Collect(ctx.recipe.sources, ctx.recipe.filters))


def run_filter(ctx: RunContext) -> None:
    from longweave.pipeline.transforms.filter import Filter

    _document_stage(ctx, "filter", "collect", lambda: Filter(ctx.recipe.filters))


def run_dedupe(ctx: RunContext) -> None:
    from longweave.pipeline.transforms.dedupe import Dedupe

    scratch = fs.join(ctx.workdir, ".scratch-dedupe")  # spilled shingle sets, this run only
    fs.remove_tree(scratch)
    try:
        _document_stage(ctx, "dedupe", "filter",
                        lambda: Dedupe(ctx.recipe.dedupe, seed=ctx.recipe.seed,
                                       source_dir=ctx.stage_dir("filter"),
                                       scratch_dir=scratch))
    finally:
        fs.remove_tree(scratch)


def run_tokenizer(ctx: RunContext) -> None:
    """The recipe's tokenizer, or a byte-level BPE trained on a seeded sample of documents."""
    from longweave.pipeline.packing.tokenizer import (
        resolve_tokenizer_json,
        special_ids,
        tokenizer_hash,
        train_bpe,
    )
    from longweave.pipeline.packing.training_sample import training_sample

    config = ctx.recipe.tokenizer

    def body(tmp: str) -> None:
        named = resolve_tokenizer_json(config)
        if named:
            text = fs.read_bytes(named).decode("utf-8")
            info = {"origin": named}
        else:
            texts = training_sample(ctx.stage_dir("dedupe"), config.train.sample_chars,
                                    ctx.recipe.seed)
            if not texts:
                raise ValueError("tokenizer: no documents to train a tokenizer on; name one "
                                 "with tokenizer.path or check the sources and filters")
            trained = train_bpe(texts, config.train.vocab_size, config.train.min_frequency)
            text = trained.to_str()
            info = {"origin": "trained", "documents": len(texts),
                    "chars": sum(len(t) for t in texts),
                    "vocab_size": trained.get_vocab_size()}
        # fail here, not in a later stage, if the tokenizer lacks a token the recipe needs
        special_ids(Tokenizer.from_str(text), config, ctx.recipe.output.pad_token_id)
        fs.write_bytes(fs.join(tmp, layout.TOKENIZER_FILE), text.encode("utf-8"))
        fs.write_json(fs.join(tmp, "info.json"), {**info, "hash": tokenizer_hash(text)})
        say(f"[tokenizer] {info['origin']}, hash {tokenizer_hash(text)}")

    commit_stage(ctx, "tokenizer", body)


def run_synthesize(ctx: RunContext) -> None:
    from longweave.pipeline.transforms.synthesize import Synthesize

    recipe = ctx.recipe
    _document_stage(ctx, "synthesize", "dedupe", lambda: Synthesize(
        recipe.synthesize, recipe.seed, tokenizer_file(ctx), list(recipe.buckets),
        source_dir=ctx.stage_dir("dedupe")))


def run_tokenize(ctx: RunContext) -> None:
    from longweave.pipeline.transforms.tokenize import tokenize_stage

    def body(tmp: str) -> Ledger:
        ctx.run_beam("tokenize", lambda pipeline: tokenize_stage(
            pipeline, ctx.stage_dir("synthesize"), tokenizer_file(ctx), ctx.recipe, tmp))
        return read_counts_ledger(tmp, "tokenize")

    commit_stage(ctx, "tokenize", body)


def run_pack(ctx: RunContext) -> None:
    """Plan the mixture and every row on the driver from segment lengths (an infeasible or
    short recipe fails here, before the stage starts and before any row is packed), move
    the tokens into shards in Beam, then write the manifest."""
    from longweave.pipeline.packing.manifest import write_output_manifest
    from longweave.pipeline.packing.mixture import (
        plan_mixture,
        plan_shortfalls,
        plan_summary,
        segment_lengths,
    )
    from longweave.pipeline.packing.rowplan import plan_pack_rows
    from longweave.pipeline.packing.shortfalls import MixtureShortfall
    from longweave.pipeline.packing.tokenizer import special_ids
    from longweave.pipeline.transforms.pack import (
        WORK_DIR,
        pack_stage,
        read_pack_results,
        write_row_plan,
    )
    from longweave.schemas.tokenizer_file import load_tokenizer

    recipe = ctx.recipe
    segments_dir = fs.join(ctx.stage_dir("tokenize"), layout.SEGMENTS_DIR)
    lengths = segment_lengths(segments_dir)
    if not lengths["segment_id"]:
        raise MixtureShortfall("pack: no documents reached the pack stage; see the ledgers "
                               "with `longweave status`", [])
    columns = lengths["source"], lengths["bucket"], lengths["tokens"]
    plan = plan_mixture(recipe, lengths["segment_id"], *columns)
    problems = plan_shortfalls(recipe, plan, *columns)
    if problems:
        raise MixtureShortfall("the data fall short of the recipe; nothing was packed:",
                               problems)

    def body(tmp: str) -> Ledger:
        say(f"[pack] plan: {plan_summary(plan)}")
        tokenizer = load_tokenizer(tokenizer_file(ctx))
        pad_id = special_ids(tokenizer, recipe.tokenizer, recipe.output.pad_token_id).pad
        rows = plan_pack_rows(plan, lengths["segment_id"], *columns, recipe.output.shuffle)
        write_row_plan(rows, fs.join(tmp, WORK_DIR))
        ctx.run_beam("pack", lambda pipeline: pack_stage(
            pipeline, segments_dir, plan, rows, recipe.output, pad_id, tmp))
        ledger = read_counts_ledger(tmp, "pack")
        shards, packed = read_pack_results(tmp)
        ledger.extra.update({"rows": sum(s.rows for s in shards),
                             "pad_tokens": sum(s.pad_tokens for s in shards)})
        ledgers = [(stage, fs.read_json(path)) for stage in ctx.stages_before("pack")
                   if fs.exists(path := fs.join(ctx.stage_dir(stage), layout.LEDGER_FILE))]
        write_output_manifest(tmp, recipe, tokenizer_file(ctx), plan, shards, packed,
                              [*ledgers, ("pack", ledger.to_json())])
        return ledger

    commit_stage(ctx, "pack", body)


def estimate_pack_plan(ctx: RunContext) -> tuple:
    """What pack would plan, estimated from the synthesize stage's documents before
    tokenize (see `pipeline/packing/estimate`): (plan, shortfalls, rates, segments)."""
    from longweave.pipeline.packing.estimate import (
        estimate_segments,
        measure_rates,
        read_shapes,
    )
    from longweave.pipeline.packing.mixture import plan_mixture, plan_shortfalls
    from longweave.pipeline.packing.shortfalls import MixtureShortfall
    from longweave.pipeline.packing.tokenizer import special_ids
    from longweave.schemas.tokenizer_file import load_tokenizer

    recipe = ctx.recipe
    tokenizer = load_tokenizer(tokenizer_file(ctx))
    specials = special_ids(tokenizer, recipe.tokenizer, recipe.output.pad_token_id)
    shapes, rates = measure_rates(lambda: read_shapes(ctx.stage_dir("synthesize")), tokenizer,
                                  recipe.seed)
    if not shapes:
        raise MixtureShortfall("plan: no documents reach tokenize; see the ledgers with "
                               "`longweave status`", [])
    segments = estimate_segments(shapes, rates, recipe,
                                 (specials.bos is not None, specials.eos is not None))
    columns = segments["source"], segments["bucket"], segments["tokens"]
    plan = plan_mixture(recipe, segments["segment_id"], *columns)
    return plan, plan_shortfalls(recipe, plan, *columns), rates, segments


def run_report(ctx: RunContext) -> None:
    from longweave.jobs.runner import beam_args
    from longweave.pipeline.report.build import build_report
    from longweave.pipeline.transforms.report import shard_reports_with_beam

    def body(tmp: str) -> None:
        build_report(ctx.stage_dir("pack"), tmp, shard_reports_with_beam(
            beam_args(ctx.recipe.runner, ctx.beam_args)))

    commit_stage(ctx, "report", body)
