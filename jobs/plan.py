"""`longweave plan RECIPE`: the pack stage's mixture plan, estimated before tokenize.

Runs the stages up to synthesize (resumable: a later `run` reuses them), then prints what
pack would plan from estimated segment lengths: each source's tokens per bucket, the
budget, each entry's planned share. A budget, share or bucket the data cannot meet exits
2 with the same message pack would give, before the costliest stages run.
"""

from __future__ import annotations

import argparse
import os

from longweave.jobs.progress import say


def estimate_table(plan, rates: dict, segments: dict[str, list], buckets: list[int]) -> str:
    """Per source: measured chars/token, estimated segments and tokens per bucket, and the
    plan's entries (target, planned tokens, epochs)."""
    by: dict[tuple[str, int], list[int]] = {}
    for source, bucket, tokens in zip(segments["source"], segments["bucket"],
                                      segments["tokens"], strict=True):
        cell = by.setdefault((source, bucket), [0, 0])
        cell[0] += 1
        cell[1] += tokens
    header = ["source", "chars/token (sample)"] + [f"bucket {b}" for b in buckets] + ["total"]
    rows = []
    for source in sorted(rates):
        rate = rates[source]
        cells = [by.get((source, b), [0, 0]) for b in buckets]
        rows.append([source, f"{rate.chars_per_token:.3f} ({rate.sample_chars:,} chars)"]
                    + [f"{t:,} tok / {n:,} seg" for n, t in cells]
                    + [f"{sum(t for _, t in cells):,} tok"])
    lines = [_table(header, rows), "", f"budget: {plan.budget:,} tokens"
             + (" (every segment once, no mixture)" if plan.natural else "")]
    for _, entry in sorted(plan.entries.items()):
        where = f"{entry.source}" + (f" @ bucket {entry.bucket}" if entry.bucket else "")
        total = sum(e.planned for e in plan.entries.values()) or 1
        lines.append(f"  {where}: share {entry.planned / total:.3f} of target {entry.share:.3f}"
                     f", {entry.planned:,} of {entry.available:,} available tokens"
                     f" ({entry.planned / entry.available if entry.available else 0:.2f} "
                     f"epochs)")
    lines.append("rows per bucket (estimated): " + ", ".join(
        f"{b}: {plan.bucket_tokens.get(b, 0) / b:,.0f}" for b in buckets))
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in [header, *rows])


def run_plan(recipe_path: str, args: argparse.Namespace, beam_args: list[str]) -> int:
    """Run up to synthesize, print the estimated plan; exit 2 on a shortfall."""
    from longweave.jobs.drivers import estimate_pack_plan
    from longweave.jobs.stages import run_context
    from longweave.jobs.workflow import FAILURES, failed_on_recipe_or_data, run_workflow
    from longweave.pipeline.packing.shortfalls import MixtureShortfall
    from longweave.schemas.recipe import load_recipe

    recipe = load_recipe(recipe_path)
    workdir = args.workdir or os.path.join("longweave-work", recipe.name)
    workdir = workdir if "://" in workdir else os.path.abspath(workdir)
    say(f"longweave plan: recipe {recipe_path} -> {workdir} (stages up to synthesize)")
    if not run_workflow(recipe_path, workdir, beam_args, until="synthesize",
                        scheduler_host=args.scheduler_host, verbose=args.verbose,
                        retries=args.retries,
                        assume_inputs_unchanged=args.assume_inputs_unchanged,
                        hash_inputs=args.hash_inputs):
        if failed_on_recipe_or_data():
            return 2
        say("longweave plan: a stage failed" + (":\n" + "\n".join(FAILURES) if FAILURES
                                                else ""))
        return 1
    ctx = run_context(recipe, workdir, beam_args, args.verbose)
    try:
        plan, problems, rates, segments = estimate_pack_plan(ctx)
    except MixtureShortfall as error:
        say(f"longweave plan: {error}")
        return 2
    print("estimated before tokenize (lengths from characters at each source's measured "
          "rate; pack plans on exact lengths):")
    print(estimate_table(plan, rates, segments, list(recipe.buckets)))
    if problems:
        say("longweave plan: " + str(MixtureShortfall(
            "the data would fall short of the recipe (estimated):", problems)))
        return 2
    say("longweave plan: the recipe's mixture, budget and buckets can be met (estimated); "
        f"`longweave run {recipe_path}"
        + (f" --workdir {args.workdir}" if args.workdir else "") + "` continues from here")
    return 0
