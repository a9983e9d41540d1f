"""Pure dedupe core: signatures, band parameters, components converge, keep policy."""

from __future__ import annotations

import random
import re
import textwrap

import numpy as np

from longweave.filters import minhash
from longweave.filters.components import edge, finish_labels, run_rounds, star_labels, union_find
from longweave.filters.exact import Candidate, resolve_cluster
from longweave.filters.minhash import (
    MinHashParams,
    band_keys,
    estimated_jaccard,
    jaccard,
    shingle_hashes,
    shingle_set,
    signature,
    sorted_unique,
    word_hashes,
)


def test_bands_rows_from_fp_fn_optimum():
    params = MinHashParams.create(threshold=0.8, num_perm=128)
    assert (params.bands, params.rows) == (9, 13)


def test_signature_estimates_jaccard_and_is_seeded():
    text = open(textwrap.__file__, encoding="utf-8").read()
    words = text.split()
    edited = " ".join(w if i % 40 else "EDIT" for i, w in enumerate(words))
    params = MinHashParams.create(num_perm=256)
    sig_a = signature(shingle_hashes(text, "word", 5), params)
    sig_b = signature(shingle_hashes(edited, "word", 5), params)
    truth = jaccard(shingle_set(text, params), shingle_set(edited, params))
    assert 0.6 < truth < 0.95
    assert abs(estimated_jaccard(sig_a, sig_b) - truth) < 0.08
    assert np.array_equal(sig_a, signature(shingle_hashes(text, "word", 5), params))
    other_seed = MinHashParams.create(num_perm=256, seed=1)
    assert not np.array_equal(sig_a, signature(shingle_hashes(text, "word", 5), other_seed))


def test_word_hashes_follow_regex_words_in_any_script(monkeypatch):
    text = "Straße, ΑΒΓ déjà-vu 東京 x_y 12,5 " + open(textwrap.__file__, encoding="utf-8").read()
    tokens = re.findall(r"\w+", text.lower())
    hashes = word_hashes(text).tolist()
    assert len(hashes) == len(tokens)
    by_word = dict(zip(tokens, hashes, strict=True))
    assert [by_word[t] for t in tokens] == hashes  # same word, same hash
    assert len(set(by_word.values())) == len(by_word)  # different words, different hashes
    # ASCII texts take a faster path: shared words must still hash alike
    assert word_hashes("Hello World")[0] == word_hashes("hello wörld")[0]
    # windows and blocks bound memory without changing any result
    params = MinHashParams.create()
    sig = signature(shingle_hashes(text, "word", 5), params)
    monkeypatch.setattr(minhash, "_WINDOW", 97)
    monkeypatch.setattr(minhash, "_BLOCK_VALUES", 1000)
    assert word_hashes(text).tolist() == hashes
    assert np.array_equal(signature(shingle_hashes(text, "word", 5), params), sig)


def test_band_permutations_give_a_prefix_of_the_signature():
    text = open(textwrap.__file__, encoding="utf-8").read()
    params = MinHashParams.create()
    hashes = shingle_hashes(text, "word", 5)
    full = signature(hashes, params)
    short = signature(hashes, params, params.band_permutations())
    assert (len(full), len(short)) == (128, 117)
    assert np.array_equal(full[:117], short)
    assert band_keys(full, params) == band_keys(short, params)
    assert np.array_equal(sorted_unique(hashes), np.unique(hashes))


def test_char_shingles_and_tiny_texts():
    assert len(shingle_hashes("", "word", 5)) == 0
    assert len(shingle_hashes("two words", "word", 5)) == 1
    assert len(shingle_hashes("abcdefg", "char", 5)) == 3
    params = MinHashParams.create(shingle="char")
    assert jaccard(shingle_set("Hello  World", params), shingle_set("hello world", params)) == 1


def test_components_converge_on_long_shuffled_chain():
    rng = random.Random(3)
    nodes = [f"n{i:05d}" for i in range(2000)]
    rng.shuffle(nodes)
    edges = [edge(a, b) for a, b in zip(nodes, nodes[1:], strict=False)]
    truth = union_find(edges)
    assert set(truth.values()) == {min(nodes)}
    # enough unrolled rounds converge to stars on their own ...
    converged = run_rounds(edges, 12)
    assert star_labels(converged) == truth
    assert finish_labels(converged)[1] == 0
    # ... and the finish is exact after any number of rounds
    for rounds in (0, 1, 3):
        labels, residual = finish_labels(run_rounds(edges, rounds))
        assert labels == truth and residual > 0


def test_keep_policy_longest_then_score_then_id():
    members = [Candidate("b", "s", 100, 0.5), Candidate("a", "s", 100, 0.5),
               Candidate("c", "s", 100, 0.9), Candidate("d", "s", 90, 1.0)]
    keeper, drops, record = resolve_cluster(members, "a")
    assert keeper.id == "c"
    assert [d.detail for d in drops] == ["duplicate-of:c cluster:a"] * 3
    assert record["members"] == ["a", "b", "c", "d"]
