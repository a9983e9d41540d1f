"""Tiny and huge limits: splitting and packing either succeed with a valid plan or refuse,
and never loop (issue 18: `buckets: [1]` made `plan_pieces` spin on a limit of 0).

A seeded random sweep stands in for a property test (hypothesis is not a dev dependency).
"""

from __future__ import annotations

import random

import pytest

from longweave.pipeline.packing.bestfit import best_fit_decreasing
from longweave.pipeline.packing.segments import plan_pieces

CASES = 1500


def _random_case(rng: random.Random) -> tuple[int, list[int], int, list[int]]:
    n_tokens = rng.choice([0, 1, 2, 3, rng.randint(0, 50), rng.randint(0, 5000),
                           rng.randint(10**6, 10**7)])
    limit = rng.choice([1, 2, 3, rng.randint(1, 20), rng.randint(1, 10**4), 10**9])
    if n_tokens // limit > 2_000:  # a million one-token pieces proves nothing more
        limit = n_tokens // 2_000
    inside = sorted({rng.randint(0, max(n_tokens, 1)) for _ in range(rng.randint(0, 30))})
    boundaries = sorted({0, n_tokens, *[b for b in inside if b <= n_tokens]})
    strong = sorted({rng.choice(boundaries) for _ in range(rng.randint(0, 5))})
    return n_tokens, boundaries, limit, strong


def test_plan_pieces_covers_the_document_in_pieces_within_the_limit() -> None:
    rng = random.Random(18)
    for _ in range(CASES):
        n_tokens, boundaries, limit, strong = _random_case(rng)
        pieces = plan_pieces(n_tokens, boundaries, limit, strong)
        case = (n_tokens, limit, boundaries[:8], strong)
        assert pieces[0][0] == 0 and pieces[-1][1] == n_tokens, case
        for (_, end, _), (start, _, _) in zip(pieces, pieces[1:], strict=False):
            assert end == start, case  # contiguous, nothing lost or repeated
        for start, end, how in pieces:
            assert end - start <= limit, case
            assert end > start or n_tokens == 0, case  # every piece advances
            if how == "cut":
                assert end - start == limit, case
        # at most one piece per token (+1 for an empty document): no runaway plan
        assert len(pieces) <= max(n_tokens, 1), case


def test_a_strong_boundary_at_the_start_does_not_stall_a_limit_of_one() -> None:
    assert plan_pieces(3, [0, 1, 2, 3], 1, strong=[0, 1, 2]) == [
        (0, 1, "boundary"), (1, 2, "boundary"), (2, 3, "boundary")]


@pytest.mark.parametrize("limit", [0, -1, -(10**9)])
def test_a_limit_that_holds_no_token_is_an_error_not_a_loop(limit: int) -> None:
    with pytest.raises(ValueError, match="holds no token"):
        plan_pieces(10, [0, 10], limit)
    with pytest.raises(ValueError, match="holds no token"):
        plan_pieces(0, [0], limit)


def test_best_fit_packs_every_item_once_within_capacity_for_tiny_and_huge_capacities() -> None:
    rng = random.Random(81)
    for _ in range(600):
        capacity = rng.choice([1, 2, 3, rng.randint(1, 64), 10**9])
        lengths = [rng.randint(0, min(capacity, 10**6)) for _ in range(rng.randint(0, 40))]
        keys = [rng.randint(0, 5) for _ in lengths] if rng.random() < 0.5 else None
        bins = best_fit_decreasing(lengths, capacity, keys)
        assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
        for members in bins:
            assert sum(lengths[i] for i in members) <= capacity
            if keys is not None:
                assert len({keys[i] for i in members}) == len(members)


def test_best_fit_refuses_an_item_larger_than_the_capacity() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        best_fit_decreasing([2], 1)
