"""Recipes that looked valid but could never run (issue 18): a bucket too small for its
special tokens, and a YAML `true` read as the number 1. Both exit 2 naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from longweave.jobs.cli import main
from longweave.schemas.recipe import RecipeError, parse_recipe

BASE = {
    "name": "r",
    "sources": [{"name": "a", "kind": "text", "paths": ["."]}],
    "buckets": [1024],
}


def error_for(**changes: object) -> str:
    data = {**yaml.safe_load(yaml.safe_dump(BASE)), **changes}
    with pytest.raises(RecipeError) as info:
        parse_recipe(data, Path("."))
    return str(info.value)


@pytest.mark.parametrize(("buckets", "tokenizer", "key"), [
    ([1], {}, "buckets[0]"),  # EOS alone fills it
    ([2], {}, "buckets[0]"),  # EOS + one token: the brief's "+ 1" margin
    ([3], {"bos": True, "eos": True}, "buckets[0]"),
    ([1024, 2], {}, "buckets[0]"),  # kept sorted: the small one is first
    ([1], {"bos": False, "eos": False}, "buckets[0]"),
])
def test_a_bucket_no_larger_than_its_special_tokens_plus_one_is_refused(
        buckets: list[int], tokenizer: dict, key: str) -> None:
    message = error_for(buckets=buckets, tokenizer=tokenizer)
    assert message.startswith(f"{key}: ") and "BOS/EOS" in message


def test_the_smallest_bucket_that_holds_a_token_passes() -> None:
    assert parse_recipe({**BASE, "buckets": [3]}, Path(".")).buckets == [3]
    recipe = parse_recipe({**BASE, "buckets": [4], "tokenizer": {"bos": True}}, Path("."))
    assert recipe.buckets == [4]


@pytest.mark.parametrize(("changes", "key"), [
    ({"seed": True}, "seed"),
    ({"budget": {"max_epochs": True}}, "budget.max_epochs"),
    ({"output": {"shard_tokens": True}}, "output.shard_tokens"),
    ({"mixture": [{"source": "a", "share": True}]}, "mixture[0].share"),
    ({"tokenizer": {"train": {"min_frequency": True}}}, "tokenizer.train.min_frequency"),
    ({"runner": {"direct_num_workers": True}}, "runner.direct_num_workers"),
    ({"filters": {"min_chars": True}}, "filters.min_chars"),
])
def test_a_bool_is_not_a_number_anywhere(changes: dict, key: str) -> None:
    message = error_for(**changes)
    assert message.startswith(f"{key}: ") and "not a number" in message, message


def test_a_bool_bucket_too_small_for_its_tokens_is_named_either_way() -> None:
    # true reads as 1: the bucket check (which runs inside validation) names it first
    assert error_for(buckets=[True]).startswith("buckets[0]: a bucket of 1 tokens")


def test_a_bool_is_not_a_number_in_source_options() -> None:
    sources = [{"name": "a", "kind": "text", "paths": ["."],
                "options": {"min_chars": True}}]
    message = error_for(sources=sources)
    assert message.startswith("sources[0].options.min_chars: "), message


def test_bools_where_bools_belong_still_pass() -> None:
    recipe = parse_recipe({**BASE, "tokenizer": {"bos": True, "eos": False},
                           "output": {"shuffle": False}}, Path("."))
    assert recipe.tokenizer.bos is True and recipe.output.shuffle is False


@pytest.mark.parametrize("buckets", [[1], [True]])
def test_validate_exits_2_with_the_key(tmp_path: Path, buckets: list,
                                       capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**BASE, "sources": [
        {"name": "a", "kind": "text", "paths": [str(tmp_path)]}], "buckets": buckets}))
    assert main(["validate", str(bad)]) == 2
    assert "buckets[0]: " in capsys.readouterr().err
