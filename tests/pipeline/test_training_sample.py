"""The streamed tokenizer-sample selection picks exactly what sorting every document would."""

from __future__ import annotations

import random

import pytest

from longweave.pipeline.packing.training_sample import SampleSelection


def sorted_prefix(items: list[tuple[float, str, int]], budget: int) -> list[str]:
    """The reference: rank all documents, take them while the sample is under budget."""
    chosen, total = [], 0
    for _, doc_id, chars in sorted(items):
        if total >= budget:
            break
        chosen.append(doc_id)
        total += chars
    return sorted(chosen)


@pytest.mark.parametrize("budget", [1, 50, 1_000, 10_000, 10**9])
def test_streamed_selection_matches_the_sorted_prefix(budget: int) -> None:
    rng = random.Random(budget)
    items = [(rng.random(), f"doc-{i}", rng.choice([0, 1, 7, 120, 900, 5_000]))
             for i in range(2_000)]
    selection = SampleSelection(budget)
    for item in items:
        selection.offer(*item)
    assert sorted(selection.ids()) == sorted_prefix(items, budget)


def test_selection_stays_small_while_the_corpus_grows() -> None:
    selection = SampleSelection(1_000)
    for i in range(20_000):
        selection.offer(((i * 7919) % 20_000) / 20_000, f"doc-{i}", 100)
    # ten 100-character documents reach the budget; the list never holds the corpus
    assert len(selection.ranked) == 10
    assert selection.total == 1_000
