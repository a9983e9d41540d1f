"""The pack plan estimated before tokenize, checked against what tokenize then measured on
the same real run (standard-library code and notes)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from longweave.pipeline.packing.estimate import (
    WINDOW_CHARS,
    estimate_segments,
    measure_rates,
    read_shapes,
    sample_windows,
)
from longweave.pipeline.packing.mixture import plan_mixture, segment_lengths
from longweave.pipeline.packing.tokenizer import special_ids
from longweave.schemas.recipe import load_recipe
from longweave.schemas.tokenizer_file import load_tokenizer


def per_source(columns: dict[str, list]) -> Counter:
    out: Counter = Counter()
    for source, tokens in zip(columns["source"], columns["tokens"], strict=True):
        out[source] += tokens
    return out


def test_estimate_matches_what_tokenize_measured(tiny_run: Path) -> None:
    recipe = load_recipe(tiny_run.parent / "tiny.yaml")
    tokenizer = load_tokenizer(str(tiny_run / "tokenizer" / "tokenizer.json"))
    specials = special_ids(tokenizer, recipe.tokenizer)
    shapes, rates = measure_rates(lambda: read_shapes(str(tiny_run / "synthesize")),
                                  tokenizer, recipe.seed, sample_chars=200_000)
    estimate = estimate_segments(shapes, rates, recipe,
                                 (specials.bos is not None, specials.eos is not None))
    actual = segment_lengths(str(tiny_run / "tokenize" / "segments"))
    got, want = per_source(estimate), per_source(actual)
    assert set(got) == set(want)
    for source in want:  # a few percent at most: the rate is measured, not assumed
        assert abs(got[source] / want[source] - 1) < 0.05, (source, got, want)
    assert abs(len(estimate["tokens"]) - len(actual["tokens"])) <= 0.1 * len(actual["tokens"])
    args = ("segment_id", "source", "bucket", "tokens")
    planned = plan_mixture(recipe, *(estimate[a] for a in args)).budget
    real = plan_mixture(recipe, *(actual[a] for a in args)).budget
    assert abs(planned / real - 1) < 0.05


def test_windows_cover_the_density_asked_for_in_expectation() -> None:
    text = "abcdefghij" * 100_000  # a million characters
    for density in (0.01, 0.1, 0.5):
        drawn = sum(len(w) for w in sample_windows(text, density, 7, "doc"))
        assert abs(drawn / len(text) - density) < 0.2 * density + WINDOW_CHARS / len(text)
    assert sample_windows(text, 1.0, 7, "doc") == [text]
    # short documents are drawn whole with the probability their length earns
    short = [sample_windows("x" * 100, 0.01, 7, f"d{i}") for i in range(20_000)]
    assert 0.8 < sum(len(w) for ws in short for w in ws) / (100 * 20_000) / 0.01 < 1.2
