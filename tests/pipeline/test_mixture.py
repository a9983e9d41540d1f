"""Mixture planning: shares land on target, infeasible recipes are refused before packing."""

from __future__ import annotations

from pathlib import Path

import pytest

from longweave.pipeline.packing.mixture import InfeasibleMixture, plan_mixture
from longweave.schemas.recipe import parse_recipe


def recipe(mixture: list[dict], budget: dict | None = None):
    return parse_recipe({
        "name": "m", "seed": 3, "buckets": [1024, 4096],
        "sources": [{"name": "a", "kind": "text", "paths": ["."]},
                    {"name": "b", "kind": "text", "paths": ["."]}],
        "mixture": mixture, "budget": budget or {}}, Path("."))


def corpus() -> tuple[list[str], list[str], list[int], list[int]]:
    ids, sources, buckets, tokens = [], [], [], []
    for i in range(400):
        ids.append(f"a{i}"), sources.append("a"), buckets.append(1024)
        tokens.append(100 + (i * 37) % 900)
    for i in range(100):
        ids.append(f"b{i}"), sources.append("b"), buckets.append(4096)
        tokens.append(500 + (i * 53) % 3000)
    return ids, sources, buckets, tokens


def actual_shares(plan, ids, sources, buckets, tokens) -> dict[str, float]:
    packed: dict[str, int] = {}
    for s, src, b, n in zip(ids, sources, buckets, tokens, strict=True):
        packed[src] = packed.get(src, 0) + n * plan.copies(s, src, b, n)
    total = sum(packed.values())
    return {k: v / total for k, v in packed.items()}


@pytest.mark.parametrize("shares", [(0.5, 0.5), (0.8, 0.2), (0.3, 0.7)])
def test_shares_land_within_one_point(shares: tuple[float, float]) -> None:
    ids, sources, buckets, tokens = corpus()
    r = recipe([{"source": "a", "share": shares[0]}, {"source": "b", "share": shares[1]}],
               {"max_epochs": 3})
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    got = actual_shares(plan, ids, sources, buckets, tokens)
    assert abs(got["a"] - shares[0]) < 0.01 and abs(got["b"] - shares[1]) < 0.01


def test_upsampling_repeats_whole_epochs_under_the_cap() -> None:
    ids, sources, buckets, tokens = corpus()
    available_b = sum(t for t, s in zip(tokens, sources, strict=True) if s == "b")
    r = recipe([{"source": "a", "share": 0.2}, {"source": "b", "share": 0.8}],
               {"tokens": int(available_b * 2.5 / 0.8), "max_epochs": 3})
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    copies_b = [plan.copies(s, "b", 4096, n) for s, n in zip(ids, tokens, strict=True)
                if s.startswith("b")]
    assert set(copies_b) <= {2, 3} and 3 in copies_b


def test_infeasible_message_names_entry_and_missing_tokens() -> None:
    ids, sources, buckets, tokens = corpus()
    r = recipe([{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}],
               {"tokens": 10_000_000, "max_epochs": 2})
    with pytest.raises(InfeasibleMixture) as info:
        plan_mixture(r, ids, sources, buckets, tokens)
    assert "mixture[0] (a, all buckets): needs 5,000,000 tokens" in str(info.value)
    assert "missing" in str(info.value)


def test_empty_source_is_reported() -> None:
    ids, sources, buckets, tokens = corpus()
    keep = [i for i, s in enumerate(sources) if s == "a"]
    r = recipe([{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}])
    with pytest.raises(InfeasibleMixture, match="the source has no tokens"):
        plan_mixture(r, [ids[i] for i in keep], [sources[i] for i in keep],
                     [buckets[i] for i in keep], [tokens[i] for i in keep])


def test_plan_is_deterministic_and_seed_dependent() -> None:
    ids, sources, buckets, tokens = corpus()
    r = recipe([{"source": "a", "share": 0.9}, {"source": "b", "share": 0.1}])
    one = plan_mixture(r, ids, sources, buckets, tokens)
    two = plan_mixture(r, list(reversed(ids)), list(reversed(sources)),
                       list(reversed(buckets)), list(reversed(tokens)))
    items = list(zip(ids, sources, buckets, tokens, strict=True))
    assert [one.copies(*x) for x in items] == [two.copies(*x) for x in items]
    r.seed = 99
    three = plan_mixture(r, ids, sources, buckets, tokens)
    assert [one.copies(*x) for x in items] != [three.copies(*x) for x in items]


def test_length_upsampling_keeps_short_segments_with_probability_p() -> None:
    ids, sources, buckets, tokens = corpus()
    r = recipe([{"source": "a", "share": 0.5, "short_tokens": 500, "short_keep": 0.25},
                {"source": "b", "share": 0.5}], {"max_epochs": 3})
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    items = [x for x in zip(ids, sources, buckets, tokens, strict=True) if x[1] == "a"]
    short = [x for x in items if x[3] < 500]
    kept_short = [x for x in short if plan.copies(*x) > 0]
    assert {plan.drop_reason(*x) for x in short if plan.copies(*x) == 0} <= {
        "length-sampled-out", "sampled-out"}
    assert 0.1 < len(kept_short) / len(short) < 0.4
    # the share still holds, now carried mostly by long segments
    got = actual_shares(plan, ids, sources, buckets, tokens)
    assert abs(got["a"] - 0.5) < 0.01


def test_coarse_segments_are_warned_about() -> None:
    from longweave.pipeline.packing.mixture import largest_segments, share_warnings

    ids = ["a0", "a1", "b0", "b1", "b2", "b3"]
    sources = ["a", "a", "b", "b", "b", "b"]
    buckets = [4096] * 6
    tokens = [4000, 4000, 100, 100, 100, 100]
    r = recipe([{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}],
               {"tokens": 1000, "max_epochs": 3})
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    warnings = share_warnings(plan, largest_segments(plan, sources, buckets, tokens))
    assert any(w.startswith("a (all buckets): planned share") and "4,000 tokens" in w
               for w in warnings)
    fine = plan_mixture(recipe([{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}]),
                        *corpus())
    assert share_warnings(fine, largest_segments(fine, *corpus()[1:])) == []
