"""Planning the mixture: how many copies of each segment the pack stage emits.

The plan is made on the driver from segment lengths only (no token ids), before any row is
packed, so an infeasible recipe, or a plan that falls short of it (`shortfalls`), is
reported with what is missing before work is spent.
Selection is deterministic: segments are ranked by a seeded hash of their id, and each
mixture entry takes whole copies, then the longest hash-ranked prefix that stays under the
remaining target, then fills the gap left below it with the next hash-ranked segments that
still fit (a short list of ids). A share therefore misses its target by less than its
shortest unpicked segment, not by its longest one: an entry whose target is a few whole
sessions or books still lands on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow.parquet as pq

from longweave.pipeline.packing.shortfalls import (
    Shortfall,
    check_feasible,
    empty_buckets,
    largest_budget,
    share_shortfalls,
)
from longweave.schemas import fs
from longweave.schemas.recipe import Recipe
from longweave.schemas.seeded import seeded_unit

ANY_BUCKET = 0


@dataclass
class EntryPlan:
    """What one mixture entry asks for and how it is met."""

    source: str
    bucket: int  # ANY_BUCKET for an entry over all buckets
    share: float
    available: int
    target: int
    full_copies: int
    threshold: float  # a segment gets one more copy when its hashed unit value is <= this
    planned: int
    short_tokens: int | None = None
    short_keep: float = 1.0
    # segments past the threshold that also get one more copy: they fill the gap the prefix
    # leaves under the target (bounded by that gap, so a short list)
    fill: frozenset[str] = frozenset()

    def keeps(self, seed: int, segment_id: str, tokens: int) -> bool:
        """Fu et al.'s per-source length up-sampling: short segments kept with a probability."""
        if self.short_tokens is None or tokens >= self.short_tokens:
            return True
        return seeded_unit(seed, "short:" + segment_id) < self.short_keep

    def to_json(self) -> dict:
        return {"source": self.source, "bucket": self.bucket or "any", "share": self.share,
                "available": self.available, "target": self.target,
                "planned": self.planned, "epochs": round(self.planned / self.available, 4)
                if self.available else 0.0,
                "short_tokens": self.short_tokens, "short_keep": self.short_keep,
                "fill_segments": len(self.fill)}


@dataclass
class MixturePlan:
    """Copies per segment, and the group / shard counts that follow from planned tokens."""

    seed: int
    entries: dict[tuple[str, int], EntryPlan] = field(default_factory=dict)
    budget: int = 0
    groups: dict[int, int] = field(default_factory=dict)
    shards: dict[int, int] = field(default_factory=dict)
    natural: bool = False
    bucket_tokens: dict[int, int] = field(default_factory=dict)  # planned, copies counted

    def entry_key(self, source: str, bucket: int) -> tuple[str, int] | None:
        if self.natural:
            return None
        if (source, bucket) in self.entries:
            return (source, bucket)
        if (source, ANY_BUCKET) in self.entries:
            return (source, ANY_BUCKET)
        return None

    def copies(self, segment_id: str, source: str, bucket: int, tokens: int) -> int:
        """How many times the segment is packed; 0 means left out (see `drop_reason`)."""
        return self._decide(segment_id, source, bucket, tokens)[0]

    def drop_reason(self, segment_id: str, source: str, bucket: int, tokens: int) -> str:
        return self._decide(segment_id, source, bucket, tokens)[1]

    def _decide(self, segment_id: str, source: str, bucket: int, tokens: int
                ) -> tuple[int, str]:
        if self.natural:
            return 1, ""
        key = self.entry_key(source, bucket)
        if key is None:
            return 0, "not-in-mixture"
        entry = self.entries[key]
        if not entry.keeps(self.seed, segment_id, tokens):
            return 0, "length-sampled-out"
        extra = (seeded_unit(self.seed, segment_id) <= entry.threshold
                 or segment_id in entry.fill)
        copies = entry.full_copies + int(extra)
        return copies, "" if copies else "sampled-out"

    def to_json(self) -> dict:
        return {
            "budget": self.budget, "natural": self.natural,
            "entries": [e.to_json() for _, e in sorted(self.entries.items())],
            "groups": {str(b): n for b, n in sorted(self.groups.items())},
            "shards": {str(b): n for b, n in sorted(self.shards.items())},
        }


def _select(units: np.ndarray, tokens: np.ndarray, want: int) -> tuple[float, list[int]]:
    """One extra copy for the segments whose tokens come closest to `want`, by hash rank.

    The longest prefix (ranked by unit value) that stays at or under `want`, then, in rank
    order after it, every segment that still fits the remaining gap. Returns the prefix's
    threshold and the positions (into `units`) of the fill. Taking the one segment that
    crosses `want` instead is kept when that lands closer than prefix plus fill.
    """
    if want <= 0 or len(units) == 0:
        return -1.0, []
    order = np.argsort(units, kind="stable")
    ranked = tokens[order]
    cumulative = np.cumsum(ranked)
    index = int(np.searchsorted(cumulative, want, side="right"))  # prefix [0, index) fits
    if index >= len(order):
        return float(units[order[-1]]), []
    threshold = float(units[order[index - 1]]) if index else -1.0
    have = int(cumulative[index - 1]) if index else 0
    fill: list[int] = []
    for position in range(index + 1, len(order)):
        if have >= want:
            break
        if ranked[position] <= want - have:
            have += int(ranked[position])
            fill.append(int(order[position]))
    crossing = int(cumulative[index])
    if crossing - want < want - have:  # the one segment that crosses is closer still
        return float(units[order[index]]), []
    return threshold, fill


def plan_mixture(recipe: Recipe, segment_ids: list[str], sources: list[str],
                 buckets: list[int], tokens: list[int]) -> MixturePlan:
    """Plan copies for every segment (given as parallel lists) under the recipe's mixture."""
    seed = recipe.seed
    tokens_arr = np.asarray(tokens, dtype=np.int64)
    plan = MixturePlan(seed=seed, natural=not recipe.mixture)
    if plan.natural:
        planned_by_bucket = _sum_by_bucket(buckets, tokens_arr)
        plan.budget = int(tokens_arr.sum())
    else:
        members = _entry_members(recipe, segment_ids, sources, buckets, tokens)
        available = {key: int(tokens_arr[idx].sum()) for key, idx in members.items()}
        budget = _budget(recipe, available)
        plan.budget = budget
        check_feasible(recipe, _in_recipe_order(recipe, available), budget)
        for entry in recipe.mixture:
            key = (entry.source, entry.bucket or ANY_BUCKET)
            idx = members[key]
            target = int(round(entry.share * budget))
            avail = available[key]
            full = target // avail if avail else 0
            units = np.asarray([seeded_unit(seed, segment_ids[i]) for i in idx])
            member_tokens = tokens_arr[idx]
            threshold, fill = _select(units, member_tokens, target - full * avail)
            planned = full * avail + int(member_tokens[units <= threshold].sum()) + int(
                member_tokens[fill].sum())
            plan.entries[key] = EntryPlan(entry.source, key[1], entry.share, avail, target,
                                          full, threshold, planned, entry.short_tokens,
                                          entry.short_keep,
                                          frozenset(segment_ids[idx[i]] for i in fill))
        copies = np.asarray([plan.copies(*item) for item in zip(
            segment_ids, sources, buckets, tokens, strict=True)], dtype=np.int64)
        planned_by_bucket = _sum_by_bucket(buckets, tokens_arr * copies)
        if _rescue_empty_buckets(plan, recipe.buckets, planned_by_bucket, segment_ids,
                                 sources, buckets, tokens):
            copies = np.asarray([plan.copies(*item) for item in zip(
                segment_ids, sources, buckets, tokens, strict=True)], dtype=np.int64)
            planned_by_bucket = _sum_by_bucket(buckets, tokens_arr * copies)
    rows_per_group = recipe.output.pack_group_rows
    for bucket in recipe.buckets:
        planned = plan.bucket_tokens[bucket] = planned_by_bucket.get(bucket, 0)
        plan.groups[bucket] = max(1, math.ceil(planned / (bucket * rows_per_group)))
        plan.shards[bucket] = max(1, math.ceil(planned / recipe.output.shard_tokens))
    return plan


def _rescue_empty_buckets(plan: MixturePlan, recipe_buckets: list[int],
                          planned: dict[int, int], segment_ids: list[str], sources: list[str],
                          buckets: list[int], tokens: list[int]) -> bool:
    """A bucket that holds segments of a mixture entry, none of them drawn, gets the one of
    lowest hash rank: `bucket_policy: spread` sent them there so that bucket has rows, and
    one segment costs its entry's share less than a row of its length. True if any was
    added (to its entry's fill list)."""
    added = False
    for bucket in recipe_buckets:
        if planned.get(bucket):
            continue
        drawn = [(seeded_unit(plan.seed, s), s, src, n) for s, src, b, n in zip(
            segment_ids, sources, buckets, tokens, strict=True)
            if b == bucket and plan.drop_reason(s, src, b, n) == "sampled-out"]
        if not drawn:
            continue
        _, segment_id, source, length = min(drawn)
        key = plan.entry_key(source, bucket)
        entry = plan.entries[key]
        entry.fill = entry.fill | {segment_id}
        entry.planned += length
        added = True
    return added


def _sum_by_bucket(buckets: list[int], tokens: np.ndarray) -> dict[int, int]:
    out: dict[int, int] = {}
    for bucket, n in zip(buckets, tokens.tolist(), strict=True):
        out[bucket] = out.get(bucket, 0) + n
    return out


def _entry_members(recipe: Recipe, segment_ids: list[str], sources: list[str],
                   buckets: list[int], tokens: list[int]) -> dict[tuple[str, int], list[int]]:
    """Segment indices per entry; a bucket-specific entry wins over its source's catch-all.

    Segments an entry's length up-sampling leaves out are no member: they count neither
    towards what the source has available nor towards its share.
    """
    entries = {(e.source, e.bucket or ANY_BUCKET): e for e in recipe.mixture}
    members: dict[tuple[str, int], list[int]] = {key: [] for key in entries}
    for i, (source, bucket) in enumerate(zip(sources, buckets, strict=True)):
        key = (source, bucket) if (source, bucket) in entries else (source, ANY_BUCKET)
        entry = entries.get(key)
        if entry is None:
            continue
        short = entry.short_tokens is not None and tokens[i] < entry.short_tokens
        if short and seeded_unit(recipe.seed, "short:" + segment_ids[i]) >= entry.short_keep:
            continue
        members[key].append(i)
    return members


def _budget(recipe: Recipe, available: dict[tuple[str, int], int]) -> int:
    return recipe.budget.tokens or largest_budget(recipe, _in_recipe_order(recipe, available))[0]


def _in_recipe_order(recipe: Recipe, by_key: dict[tuple[str, int], int]) -> list[int]:
    return [by_key[(e.source, e.bucket or ANY_BUCKET)] for e in recipe.mixture]


def plan_shortfalls(recipe: Recipe, plan: MixturePlan, sources: list[str],
                    buckets: list[int], tokens: list[int]) -> list[Shortfall]:
    """What a feasible plan still leaves short of the recipe (the driver raises
    `MixtureShortfall` with them): entries under `budget.min_share_ratio` of their share,
    and buckets that would get no rows unless `budget.allow_empty_buckets`."""
    largest: dict[tuple[str, int], int] = {}
    here: dict[int, dict[str, list[int]]] = {}
    for source, bucket, n in zip(sources, buckets, tokens, strict=True):
        here.setdefault(bucket, {}).setdefault(source, []).append(n)
        if (key := plan.entry_key(source, bucket)) is not None:
            largest[key] = max(largest.get(key, 0), n)
    problems = []
    if not plan.natural:
        keys = [(e.source, e.bucket or ANY_BUCKET) for e in recipe.mixture]
        problems += share_shortfalls(recipe, [plan.entries[k] for k in keys], plan.budget,
                                     [largest.get(k, 0) for k in keys])
    return problems + empty_buckets(
        recipe, plan.bucket_tokens, here, tokens,
        lambda source, bucket: plan.natural or plan.entry_key(source, bucket) is not None)


def plan_summary(plan: MixturePlan) -> str:
    """One line for the terminal: the budget and each entry's planned share vs its target."""
    if plan.natural:
        return f"{plan.budget:,} tokens, every segment once (no mixture)"
    total = sum(e.planned for e in plan.entries.values()) or 1
    shares = ", ".join(
        f"{e.source}{f'@{e.bucket}' if e.bucket else ''} {e.planned / total:.3f} "
        f"(target {e.share:.3f})" for _, e in sorted(plan.entries.items()))
    return f"budget {plan.budget:,} tokens: {shares}"


def segment_lengths(segments_dir: str) -> dict[str, list]:
    """The four small columns the mixture plan needs, without reading any token ids.

    Read file by file into plain lists (no concatenated table alongside them); the few
    distinct sources and buckets are shared objects, not one Python object per segment.
    """
    columns = ["segment_id", "source", "bucket", "tokens"]
    out: dict[str, list] = {name: [] for name in columns}
    shared: dict = {}
    for path in fs.glob(fs.join(segments_dir, "*.parquet")):
        with fs.open_binary(path) as handle:
            table = pq.read_table(handle, columns=columns)
        out["segment_id"].extend(table.column("segment_id").to_pylist())
        out["tokens"].extend(table.column("tokens").to_pylist())
        for name in ("source", "bucket"):
            out[name].extend(shared.setdefault(value, value)
                             for value in table.column(name).to_pylist())
    return out
