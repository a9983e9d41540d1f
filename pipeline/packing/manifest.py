"""The output folder's `manifest.json`: shards, recipe and hashes, mixture, ledgers."""

from __future__ import annotations

from typing import Any

from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.tokenizer import tokenizer_hash
from longweave.schemas import fs, layout
from longweave.schemas.packed import Manifest, ShardEntry
from longweave.schemas.recipe import Recipe


def mixture_summary(recipe: Recipe, plan: MixturePlan, packed: dict[tuple[str, int], int]
                    ) -> dict[str, Any]:
    """Target against actual token shares per source, and tokens per bucket."""
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


def write_output_manifest(out_dir: str, recipe: Recipe, tokenizer_file: str, plan: MixturePlan,
                          shards: list[ShardEntry], packed: dict[tuple[str, int], int],
                          ledgers: list[tuple[str, dict[str, Any]]]) -> Manifest:
    """Copy the tokenizer beside the shards and write the manifest; `ledgers` in flow order."""
    text = fs.read_bytes(tokenizer_file).decode("utf-8")
    fs.write_bytes(fs.join(out_dir, layout.TOKENIZER_FILE), text.encode("utf-8"))
    manifest = Manifest(
        recipe_name=recipe.name, recipe_hash=recipe.recipe_hash,
        tokenizer_hash=tokenizer_hash(text), buckets=list(recipe.buckets),
        shards=sorted(shards, key=lambda s: (s.bucket, s.path)),
        mixture=mixture_summary(recipe, plan, packed),
        recipe=recipe.model_dump(mode="json"),
        ledgers=dict(ledgers), stages=[stage for stage, _ in ledgers])
    manifest.write(out_dir)
    return manifest
