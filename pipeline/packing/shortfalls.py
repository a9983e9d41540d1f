"""What the data cannot give a recipe's mixture, budget or buckets, said with the numbers.

A shortfall is a recipe-or-data problem, not a crash: the pack driver raises
`MixtureShortfall` while planning, before any row is packed, and the CLI exits 2. Each
message names the recipe keys that fix it, and its advice follows from the numbers: with
`budget.tokens` unset the budget is already the most the data allow, so the advice is
more data, more epochs or a smaller share, never "raise the budget".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from longweave.schemas.recipe import Recipe

if TYPE_CHECKING:
    from longweave.pipeline.packing.mixture import EntryPlan


@dataclass(frozen=True)
class Shortfall:
    """One thing the data cannot give the recipe: where (an entry or a bucket), the
    numbers, and the recipe keys whose change fixes it."""

    where: str
    detail: str
    keys: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


class MixtureShortfall(ValueError):
    """The recipe's mixture, budget or buckets cannot be met by the data; `keys` names the
    recipe keys to change. Raised before any row is packed, so no work is spent."""

    def __init__(self, headline: str, problems: list[Shortfall]) -> None:
        self.headline = headline
        self.problems = list(problems)
        self.keys = tuple(dict.fromkeys(key for p in problems for key in p.keys))
        super().__init__("\n  ".join([headline, *map(str, problems)]))

    def __reduce__(self) -> tuple:  # the message is built, so pickle the parts
        return type(self), (self.headline, self.problems)


def where(index: int, source: str, bucket: int | None) -> str:
    return f"mixture[{index}] ({source}, {f'bucket {bucket}' if bucket else 'all buckets'})"


def largest_budget(recipe: Recipe, available: list[int]) -> tuple[int, int]:
    """The largest budget every share allows within max_epochs (`available` in recipe
    order), and the index of the mixture entry that sets it: the one that runs out first."""
    limits = [n * recipe.budget.max_epochs / e.share
              for n, e in zip(available, recipe.mixture, strict=True)]
    limiting = min(range(len(limits)), key=limits.__getitem__)
    return int(limits[limiting]), limiting


def check_feasible(recipe: Recipe, available: list[int], budget: int) -> None:
    """Refuse a mixture the data cannot meet at all: an entry with no tokens, or a
    `budget.tokens` larger than the data allow within max_epochs."""
    problems = []
    epochs = recipe.budget.max_epochs
    for i, (entry, have) in enumerate(zip(recipe.mixture, available, strict=True)):
        need = entry.share * budget
        if have == 0:
            here = f"in bucket {entry.bucket}" if entry.bucket else "at all"
            problems.append(Shortfall(
                where(i, entry.source, entry.bucket),
                f"the source has no tokens {here} that reach the pack stage, but its share "
                f"asks for {need:,.0f}: see its ledgers with `longweave status` (filtered or "
                f"deduplicated away?), or give its share to another entry",
                (f"mixture[{i}].source", f"mixture[{i}].share")))
        elif need > have * epochs * (1 + 1e-9):
            problems.append(Shortfall(
                where(i, entry.source, entry.bucket),
                f"needs {need:,.0f} tokens (budget.tokens x share {entry.share:g}), has "
                f"{have:,} x budget.max_epochs {epochs:g} = {have * epochs:,.0f}; "
                f"missing {need - have * epochs:,.0f}", ("budget.tokens", "budget.max_epochs")))
    if not problems:
        return
    headline = "the mixture cannot be met; nothing was packed:"
    if recipe.budget.tokens and all(available):
        most = largest_budget(recipe, available)[0]
        headline = (f"budget.tokens: {budget:,} tokens cannot be met by these data, which "
                    f"allow at most {most:,} with budget.max_epochs {epochs:g}: lower "
                    f"budget.tokens (or leave it unset for the most), raise "
                    f"budget.max_epochs, or add data; nothing was packed:")
    raise MixtureShortfall(headline, problems)


def share_shortfalls(recipe: Recipe, entries: list[EntryPlan], budget: int,
                     largest: list[int]) -> list[Shortfall]:
    """Entries (in recipe order) whose planned share is under `budget.min_share_ratio` of
    their target: whole segments, chosen by hash, land far from a target that is small
    against them, down to 0% when the target is under half the shortest segment."""
    ratio = recipe.budget.min_share_ratio
    if ratio <= 0:
        return []
    epochs = recipe.budget.max_epochs
    total = sum(e.planned for e in entries)
    most, limiting = largest_budget(recipe, [e.available for e in entries])
    problems = []
    for i, entry in enumerate(entries):
        actual = entry.planned / total if total else 0.0
        if actual >= ratio * entry.share * (1 - 1e-9):
            continue
        detail = (f"planned share {actual:.3f} is under budget.min_share_ratio {ratio:g} x "
                  f"its target {entry.share:.3f}: target {entry.target:,} tokens, "
                  f"achievable {entry.planned:,}, available {entry.available:,} (x "
                  f"budget.max_epochs {epochs:g} = {entry.available * epochs:,.0f}); "
                  f"segments are taken whole and its largest has {largest[i]:,} tokens. ")
        if recipe.budget.tokens:
            detail += (f"budget.tokens {budget:,} makes the target small against them: raise "
                       f"budget.tokens (these data allow up to {most:,}; beyond that add "
                       f"data or raise budget.max_epochs), or use smaller buckets so long "
                       f"documents split into smaller segments")
            keys: tuple[str, ...] = ("budget.tokens", "budget.min_share_ratio")
        else:
            top = entries[limiting]
            setter = "this entry sets it" if limiting == i else (
                f"{where(limiting, top.source, top.bucket)} sets it")
            detail += (f"budget.tokens is unset, so the budget is already the most the data "
                       f"allow, and {setter}: {top.available:,} tokens x budget.max_epochs "
                       f"{epochs:g} / share {top.share:g} = {budget:,}. The data hold this "
                       f"entry's target; its whole segments are what land far from it. A "
                       f"larger budget makes the target large against them: add "
                       f"{top.source} data, raise budget.max_epochs, or lower "
                       f"mixture[{limiting}].share; or use smaller buckets so long "
                       f"documents split into smaller segments")
            keys = ("budget.max_epochs", f"mixture[{limiting}].share",
                    "budget.min_share_ratio")
        met = math.floor(actual / entry.share * 100) / 100
        detail += f"; or accept this share with budget.min_share_ratio: {met:g}"
        problems.append(Shortfall(where(i, entry.source, entry.bucket), detail, keys))
    return problems


def empty_buckets(recipe: Recipe, bucket_tokens: dict[int, int],
                  here: dict[int, dict[str, list[int]]], tokens: list[int],
                  in_mixture: Callable[[str, int], bool]) -> list[Shortfall]:
    """Buckets of the recipe with no planned tokens, with why nothing went there.

    `here` holds each bucket's segment lengths by source; `tokens` every segment's length.
    """
    if recipe.budget.allow_empty_buckets:
        return []
    problems = []
    relax = "or allow it with budget.allow_empty_buckets: true"
    for index, bucket in enumerate(recipe.buckets):
        if bucket_tokens.get(bucket, 0):
            continue
        floor = recipe.buckets[index - 1] if index else 0
        fitting = sum(1 for n in tokens if n <= bucket)
        smallest = sum(1 for n in tokens if floor < n <= bucket)
        keys: tuple[str, ...] = ("buckets", "budget.allow_empty_buckets")
        if here.get(bucket):
            listed = ", ".join(
                f"{source} ({len(ns):,} segments, {sum(ns):,} tokens"
                f"{'' if in_mixture(source, bucket) else ', not in the mixture'})"
                for source, ns in sorted(here[bucket].items()))
            why = (f"segments are assigned to it ({listed}) but the mixture plans none of "
                   f"them: give their sources a mixture entry or a larger share, remove "
                   f"{bucket} from buckets, {relax}")
            keys = ("mixture", *keys)
        elif fitting and recipe.bucket_policy == "spread":
            why = (f"no segment is assigned to it: {fitting:,} segments fit it (at most "
                   f"{bucket:,} tokens), but bucket_policy spread drew them all into larger "
                   f"buckets (weighted by length): ")
            if smallest:
                why += f"use bucket_policy: smallest ({smallest:,} segments would go here), "
                keys = ("bucket_policy", *keys)
            why += f"remove {bucket} from buckets, {relax}"
        elif fitting:
            why = (f"no segment has {floor + 1:,} to {bucket:,} tokens, the lengths "
                   f"bucket_policy smallest sends here: use bucket_policy: spread (shorter "
                   f"segments then fill longer rows too), remove {bucket} from buckets, "
                   f"{relax}")
            keys = ("bucket_policy", *keys)
        else:
            shortest = f" (the shortest has {min(tokens):,} tokens)" if tokens else ""
            why = (f"no segment is short enough for it{shortest}: remove {bucket} from "
                   f"buckets, {relax}")
        problems.append(Shortfall(f"buckets[{index}] (bucket {bucket})",
                                  f"would get no rows: {why}", keys))
    return problems
