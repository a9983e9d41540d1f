"""Planning: from groups of related documents to a list of sample jobs.

Planning sees only sketches (lengths, ids), so it runs once on one worker; each job then
names its member documents, whose texts the Beam shell joins back by id. Lengths here are
estimates (chars / chars_per_token); builders trim with the real tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass

from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.schemas.seeded import keyed_rng, stable_hash
from longweave.synth.families import ASKED, row_trait
from longweave.synth.grouping import Group, Sketch

CONTEXT_OVERFILL = 1.3  # pools get this much more estimated text than the bucket holds


@dataclass(frozen=True)
class Job:
    """One synthetic sample to build: its kind, method, target bucket and member documents."""

    job_id: str
    kind: str  # megadoc | paraphrase_qa | synthetic_task
    method: str  # grouping method, megadoc mode, or task family
    bucket: int
    member_ids: tuple[str, ...]
    depth: float | None = None  # target relative depth of the evidence / needle
    variant: str = ""  # value type of a needle task


def stratified_depths(seed: int, key: str, n: int) -> list[float]:
    """n depths, one per equal-width bin in a keyed random order: uniform by construction."""
    rng = keyed_rng(seed, "depth", key)
    bins = list(range(n))
    rng.shuffle(bins)
    return [(b + rng.random()) / n for b in bins]


def plan_jobs(sketches: list[Sketch], groups: list[Group], config: SynthesizeConfig, seed: int,
              buckets: list[int]) -> list[Job]:
    est = {s.doc_id: s.chars / config.chars_per_token for s in sketches}
    jobs: list[Job] = []
    if config.megadocs.enabled:
        jobs += _megadoc_jobs(groups, est, config, seed, buckets)
    pool = [d for g in groups for d in g.member_ids]
    if config.paraphrase.enabled:
        jobs += _question_jobs(sketches, pool, est, config, seed, buckets)
    if config.tasks.enabled:
        types = config.tasks.value_types
        for family in config.tasks.families:
            for bucket in config.tasks.buckets or buckets:
                n = config.tasks.samples_per_bucket
                key = f"task:{family}:{bucket}"
                for i, depth in enumerate(stratified_depths(seed, key, n)):
                    members = _context_members(pool, est, bucket, seed, f"{key}:{i}")
                    if members:
                        jobs.append(_job("synthetic_task", family, bucket, members, depth,
                                         types[i % len(types)], i))
    return jobs


def family_counts(shares: dict[str, float], available: set[str], n: int) -> dict[str, int]:
    """`n` samples over the families that have rows, by largest remainder of their shares
    (renormalised over those families, so a corpus without books still gets `n`)."""
    live = {f: v for f, v in sorted(shares.items()) if v > 0 and f in available}
    total = sum(live.values())
    if not live or n <= 0:
        return {}
    exact = {f: n * v / total for f, v in live.items()}
    counts = {f: int(x) for f, x in exact.items()}
    for f in sorted(live, key=lambda f: (-(exact[f] - counts[f]), f))[:n - sum(counts.values())]:
        counts[f] += 1
    return {f: c for f, c in counts.items() if c}


def _question_jobs(sketches: list[Sketch], pool: list[str], est: dict[str, float],
                   config: SynthesizeConfig, seed: int, buckets: list[int]) -> list[Job]:
    """Per bucket and family: stratified depths (uniform per family) and a context walked
    from the grouped order over the rows that family can read."""
    by_trait: dict[str | None, list[str]] = {None: pool}
    trait_of = {s.doc_id: set(s.traits) for s in sketches}
    asked = any(ASKED in t for t in trait_of.values())
    trait_for = {f: row_trait(f, asked) for f in config.paraphrase.families}
    for trait in trait_for.values():
        if trait not in by_trait:
            by_trait[trait] = [d for d in pool if trait in trait_of.get(d, set())]
    available = {f for f in config.paraphrase.families if by_trait[trait_for[f]]}
    jobs = []
    for bucket in config.paraphrase.buckets or buckets:
        counts = family_counts(config.paraphrase.families, available,
                               config.paraphrase.samples_per_bucket)
        for family, n in counts.items():
            rows = by_trait[trait_for[family]]
            key = f"paraphrase:{bucket}" if family == "next_word" else f"{family}:{bucket}"
            for i, depth in enumerate(stratified_depths(seed, key, n)):
                members = _context_members(rows, est, bucket, seed, f"{key}:{i}")
                if members:
                    jobs.append(_job("paraphrase_qa", family, bucket, members, depth, index=i))
    return jobs


def _job(kind: str, method: str, bucket: int, members: tuple[str, ...],
         depth: float | None = None, variant: str = "", index: int = 0) -> Job:
    job_id = stable_hash(kind, method, bucket, index, depth, variant, *members)
    return Job(job_id, kind, method, bucket, members, depth, variant)


def _megadoc_jobs(groups: list[Group], est: dict[str, float], config: SynthesizeConfig,
                  seed: int, buckets: list[int]) -> list[Job]:
    mega = config.megadocs
    targets = sorted(mega.buckets or buckets, reverse=True)
    jobs: list[Job] = []
    if mega.mode != "concat":
        growth = mega.stitch_rephrasings + 1 if mega.mode == "stitch" else 1.3
        singles = sorted((d for g in groups for d in g.member_ids),
                         key=lambda d: stable_hash(seed, "single", d))
        for doc_id in singles:
            bucket = _largest_fill(targets, est[doc_id] * growth, mega.min_fill)
            if bucket and len(jobs) < mega.max_samples:
                jobs.append(_job("megadoc", mega.mode, bucket, (doc_id,)))
        return jobs
    for group in groups:
        remaining = list(group.member_ids)
        while len(remaining) >= 2 and len(jobs) < mega.max_samples:
            bucket = _largest_fill(targets, sum(est[d] for d in remaining), mega.min_fill)
            if bucket is None:
                break
            taken, total = [], 0.0
            while remaining and (total < bucket * 1.1 or len(taken) < 2):
                taken.append(remaining.pop(0))
                total += est[taken[-1]]
            if len(taken) >= 2:
                jobs.append(_job("megadoc", group.method, bucket, tuple(taken)))
    return jobs


def _largest_fill(targets: list[int], tokens: float, min_fill: float) -> int | None:
    return next((b for b in targets if tokens >= min_fill * b), None)


def _context_members(pool: list[str], est: dict[str, float], bucket: int, seed: int,
                     key: str) -> tuple[str, ...]:
    """Documents from a keyed start in grouped order until the bucket is over-filled.

    Walking the grouped order keeps related documents together in one context.
    """
    if not pool:
        return ()
    start = keyed_rng(seed, "pool", key).randrange(len(pool))
    members, total = [], 0.0
    for step in range(len(pool)):
        doc_id = pool[(start + step) % len(pool)]
        members.append(doc_id)
        total += est[doc_id]
        if total >= bucket * CONTEXT_OVERFILL:
            break
    return tuple(members)
