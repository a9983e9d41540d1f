"""The output folder's `manifest.json`: shards, recipe and hashes, mixture, ledgers."""

from __future__ import annotations

from typing import Any

from tokenizers import Tokenizer

from longweave.pipeline.packing.mixture import MixturePlan
from longweave.pipeline.packing.tokenizer import special_ids, tokenizer_hash
from longweave.schemas import fs, layout
from longweave.schemas.packed import Manifest, ShardEntry
from longweave.schemas.recipe import Recipe, portable_recipe


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


def hf_special_tokens(tokenizer: Tokenizer, recipe: Recipe) -> dict[str, str]:
    """`bos_token` / `eos_token` / `pad_token` as the packer resolves them (`special_ids`):
    BOS and EOS only when the recipe inserts them, the pad the row tails hold."""
    specials = special_ids(tokenizer, recipe.tokenizer, recipe.output.pad_token_id)
    named = {"bos_token": specials.bos, "eos_token": specials.eos, "pad_token": specials.pad}
    tokens = {key: tokenizer.id_to_token(token_id) for key, token_id in named.items()
              if token_id is not None}
    return {key: token for key, token in tokens.items() if token is not None}


def write_tokenizer_folder(out_dir: str, tokenizer_json: str, recipe: Recipe) -> None:
    """`tokenizer.json` plus the two small files that make the output folder load with
    `transformers.AutoTokenizer.from_pretrained(out_dir)` offline, with the specials the
    packer used (a trainer's pad and EOS then match the ids in the shards)."""
    specials = hf_special_tokens(Tokenizer.from_str(tokenizer_json), recipe)
    fs.write_bytes(fs.join(out_dir, layout.TOKENIZER_FILE), tokenizer_json.encode("utf-8"))
    fs.write_json(fs.join(out_dir, layout.SPECIAL_TOKENS_FILE), specials)
    fs.write_json(fs.join(out_dir, layout.TOKENIZER_CONFIG_FILE), {
        "tokenizer_class": "PreTrainedTokenizerFast", **specials,
        "model_max_length": max(recipe.buckets), "clean_up_tokenization_spaces": False})


def write_output_manifest(out_dir: str, recipe: Recipe, tokenizer_file: str, plan: MixturePlan,
                          shards: list[ShardEntry], packed: dict[tuple[str, int], int],
                          ledgers: list[tuple[str, dict[str, Any]]]) -> Manifest:
    """Copy the tokenizer beside the shards (as a Hugging Face tokenizer folder) and write the
    manifest; `ledgers` in flow order."""
    text = fs.read_bytes(tokenizer_file).decode("utf-8")
    write_tokenizer_folder(out_dir, text, recipe)
    manifest = Manifest(
        recipe_name=recipe.name, recipe_hash=recipe.recipe_hash,
        tokenizer_hash=tokenizer_hash(text), buckets=list(recipe.buckets),
        shards=sorted(shards, key=lambda s: (s.bucket, s.path)),
        mixture=mixture_summary(recipe, plan, packed),
        recipe=portable_recipe(recipe),  # shared with the shards: no local absolute paths
        ledgers=dict(ledgers), stages=[stage for stage, _ in ledgers])
    manifest.write(out_dir)
    return manifest
