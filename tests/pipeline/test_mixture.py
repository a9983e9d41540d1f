"""Mixture planning: shares land on target; infeasible recipes and plans that fall short of
them (an entry under its share, an empty bucket) are refused before packing, with the
numbers and the recipe keys to change."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from longweave.pipeline.packing.mixture import plan_mixture, plan_shortfalls
from longweave.pipeline.packing.shortfalls import MixtureShortfall
from longweave.schemas.recipe import parse_recipe


def recipe(mixture: list[dict], budget: dict | None = None, **extra):
    return parse_recipe({
        "name": "m", "seed": 3, "buckets": [1024, 4096],
        "sources": [{"name": "a", "kind": "text", "paths": ["."]},
                    {"name": "b", "kind": "text", "paths": ["."]}],
        "mixture": mixture, "budget": budget or {}, **extra}, Path("."))


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


def test_infeasible_budget_names_budget_tokens_and_the_most_the_data_allow() -> None:
    ids, sources, buckets, tokens = corpus()
    available_b = sum(t for t, s in zip(tokens, sources, strict=True) if s == "b")
    r = recipe([{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}],
               {"tokens": 10_000_000, "max_epochs": 2})
    with pytest.raises(MixtureShortfall) as info:
        plan_mixture(r, ids, sources, buckets, tokens)
    message = str(info.value)
    assert message.startswith("budget.tokens: 10,000,000 tokens cannot be met")
    assert f"allow at most {int(available_b * 2 / 0.5):,} with budget.max_epochs 2" in message
    assert "mixture[0] (a, all buckets): needs 5,000,000 tokens" in message
    assert "missing" in message
    assert info.value.keys[0] == "budget.tokens"


def test_empty_source_is_reported() -> None:
    ids, sources, buckets, tokens = corpus()
    keep = [i for i, s in enumerate(sources) if s == "a"]
    r = recipe([{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}])
    with pytest.raises(MixtureShortfall, match="the source has no tokens"):
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


def coarse() -> tuple[list[str], list[str], list[int], list[int]]:
    """Two 4,000-token segments of `a` against 100-token segments of `b`."""
    return (["a0", "a1", "b0", "b1", "b2", "b3"], ["a", "a", "b", "b", "b", "b"],
            [4096] * 6, [4000, 4000, 100, 100, 100, 100])


def test_a_small_budget_against_whole_segments_is_a_shortfall_naming_budget_tokens() -> None:
    ids, sources, buckets, tokens = coarse()
    r = recipe([{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}],
               {"tokens": 1000, "max_epochs": 3}, buckets=[4096])
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    problems = plan_shortfalls(r, plan, sources, buckets, tokens)
    assert [p.where for p in problems] == ["mixture[0] (a, all buckets)"]
    text = str(problems[0])
    assert "planned share 0.000 is under budget.min_share_ratio 0.9 x its target 0.500" in text
    assert "target 500 tokens, achievable 0, available 8,000 (x budget.max_epochs 3 = 24,000)"\
        in text
    assert "its largest has 4,000 tokens" in text
    assert "raise budget.tokens (these data allow up to 2,400;" in text
    assert problems[0].keys == ("budget.tokens", "budget.min_share_ratio")


def test_with_an_unlimited_budget_the_advice_is_more_data_not_a_larger_budget() -> None:
    ids, sources, buckets, tokens = coarse()
    ids, sources, tokens = ids + ["b4"], sources + ["b"], tokens + [4000]
    buckets = [4096] * len(ids)
    # b (4,400 tokens x 1 epoch / 0.9) sets the budget: a's target of 489 is a tenth of one
    # of its 4,000-token segments
    r = recipe([{"source": "a", "share": 0.1}, {"source": "b", "share": 0.9}], buckets=[4096])
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    problems = plan_shortfalls(r, plan, sources, buckets, tokens)
    assert [p.where for p in problems] == ["mixture[0] (a, all buckets)"]
    text = str(problems[0])
    assert "raise budget.tokens" not in text and "raise the budget" not in text
    assert ("budget.tokens is unset, so the budget is already the most the data allow, and "
            "mixture[1] (b, all buckets) sets it: 4,400 tokens x budget.max_epochs 1 / share "
            "0.9 = 4,888") in text
    # the data hold the target (the budget is what they allow): whole segments miss it
    assert "The data hold this entry's target" in text and "data are short" not in text
    assert ("add b data, raise budget.max_epochs, or lower mixture[1].share; or use smaller "
            "buckets") in text
    assert problems[0].keys == ("budget.max_epochs", "mixture[1].share", "budget.min_share_ratio")


def test_min_share_ratio_sets_the_tolerance_and_zero_turns_it_off() -> None:
    ids, sources, buckets, tokens = coarse()
    mix = [{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}]
    for ratio, expected in ((0.9, 1), (0.0, 0)):
        r = recipe(mix, {"tokens": 1000, "max_epochs": 3, "min_share_ratio": ratio},
                   buckets=[4096])
        plan = plan_mixture(r, ids, sources, buckets, tokens)
        assert len(plan_shortfalls(r, plan, sources, buckets, tokens)) == expected
    fine = plan_mixture(recipe(mix), *corpus())
    assert plan_shortfalls(recipe(mix), fine, *corpus()[1:]) == []


def test_a_bucket_spread_leaves_empty_is_a_shortfall_unless_allowed() -> None:
    # every segment fits 1024, but spread drew them all into 4096
    ids = [f"a{i}" for i in range(4)] + [f"b{i}" for i in range(4)]
    sources = ["a"] * 4 + ["b"] * 4
    buckets = [4096] * 8
    tokens = [500] * 8
    mix = [{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}]
    r = recipe(mix)
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    assert plan.bucket_tokens == {1024: 0, 4096: 4000}
    problems = plan_shortfalls(r, plan, sources, buckets, tokens)
    assert [p.where for p in problems] == ["buckets[0] (bucket 1024)"]
    assert ("would get no rows: no segment is assigned to it: 8 segments fit it (at most "
            "1,024 tokens), but bucket_policy spread drew them all") in str(problems[0])
    assert "use bucket_policy: smallest (8 segments would go here)" in str(problems[0])
    assert "budget.allow_empty_buckets: true" in str(problems[0])
    allowed = recipe(mix, {"allow_empty_buckets": True})
    assert plan_shortfalls(allowed, plan_mixture(allowed, ids, sources, buckets, tokens),
                           sources, buckets, tokens) == []


def test_an_empty_bucket_says_which_segments_the_mixture_left_out() -> None:
    ids, sources, buckets, tokens = ["a0", "b0"], ["a", "b"], [1024, 4096], [900, 3000]
    r = recipe([{"source": "b", "share": 1.0}])  # a has no mixture entry
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    (problem,) = plan_shortfalls(r, plan, sources, buckets, tokens)
    assert problem.where == "buckets[0] (bucket 1024)"
    assert "segments are assigned to it (a (1 segments, 900 tokens, not in the mixture))" \
        in problem.detail
    # without a mixture every segment goes once: a bucket no segment reaches is still named
    natural = recipe([], bucket_policy="smallest")
    (problem,) = plan_shortfalls(natural, plan_mixture(natural, ["b0"], ["b"], [4096], [3000]),
                                 ["b"], [4096], [3000])
    assert "no segment is short enough for it (the shortest has 3,000 tokens)" in problem.detail


def test_a_shortfall_is_one_error_with_every_problem_and_survives_pickling() -> None:
    ids, sources, buckets, tokens = coarse()
    r = recipe([{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}],
               {"tokens": 1000, "max_epochs": 3})
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    error = MixtureShortfall("the data fall short:", plan_shortfalls(r, plan, sources,
                                                                     buckets, tokens))
    assert str(error).splitlines()[0] == "the data fall short:"
    assert "mixture[0] (a, all buckets)" in str(error)
    assert "buckets[0] (bucket 1024): would get no rows" in str(error)
    assert isinstance(error, ValueError)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.keys == error.keys


def test_a_target_of_a_few_whole_segments_is_filled_by_smaller_ones() -> None:
    """Whole long segments against a target of a few of them: the hash-ranked prefix stops
    short by up to one long segment; the fill takes later segments that fit the gap, so
    the share misses by less than the shortest segment left out (here under 1%)."""
    ids = [f"s{i}" for i in range(60)]
    tokens = [90_000 if i % 3 else 4_000 + 97 * i for i in range(60)]
    sources, buckets = ["a"] * 60, [4096] * 60
    mixture = [{"source": "a", "share": 1.0}]
    r = recipe(mixture, {"tokens": 230_000, "max_epochs": 1})
    plan = plan_mixture(r, ids, sources, buckets, tokens)
    packed = sum(n * plan.copies(s, "a", 4096, n) for s, n in zip(ids, tokens, strict=True))
    assert abs(packed - 230_000) < min(n for n in tokens)
    entry = plan.entries[("a", 0)]
    assert entry.planned == packed and 0 < len(entry.fill) < 20
    assert pickle.loads(pickle.dumps(plan)).copies(*sorted(entry.fill)[0:1], "a", 4096, 1) == 1


def test_a_bucket_holding_undrawn_segments_of_an_entry_gets_one() -> None:
    """spread sends a few short segments to the small bucket; when the share's draw takes
    none of them, the plan adds the one of lowest hash rank rather than leave it empty."""
    ids = [f"a{i}" for i in range(40)] + ["small0", "small1"]
    buckets = [4096] * 40 + [1024, 1024]
    tokens = [3000] * 40 + [900, 900]
    r = recipe([{"source": "a", "share": 1.0}], {"tokens": 6000, "max_epochs": 1})
    plan = plan_mixture(r, ids, ["a"] * 42, buckets, tokens)
    assert plan.bucket_tokens[1024] == 900
    assert plan_shortfalls(r, plan, ["a"] * 42, buckets, tokens) == []
    assert sum(plan.copies(s, "a", b, n) for s, b, n in zip(ids, buckets, tokens,
                                                            strict=True) if b == 1024) == 1
