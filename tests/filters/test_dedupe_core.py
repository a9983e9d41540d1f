"""Pure dedupe core: the very functions the Beam dedupe steps call, without Beam.

Where a Beam step is a GroupByKey, `shuffle` stands in for it (sorted groups of values).
"""

from __future__ import annotations

import random
import re
import textwrap
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable

import numpy as np

from longweave.filters import minhash, near_dedup
from longweave.filters.components import (
    Edge,
    both_directions,
    final_label,
    large_star,
    node_view,
    small_star,
    union_find,
)
from longweave.filters.exact import Candidate, copies_to_cut, resolve_cluster
from longweave.filters.minhash import (
    MinHashParams,
    band_buckets,
    band_keys,
    estimated_jaccard,
    jaccard,
    shingle_hashes,
    shingle_set,
    signature,
    sketch,
    sorted_unique,
    word_hashes,
)
from longweave.schemas.document import Document

TEXT = open(textwrap.__file__, encoding="utf-8").read()


def shuffle(pairs: Iterable[tuple[Hashable, object]]) -> list[tuple[Hashable, list]]:
    """What a GroupByKey hands the next step: each key with all its values."""
    groups: dict[Hashable, list] = defaultdict(list)
    for key, value in pairs:
        groups[key].append(value)
    return sorted(groups.items())


def edited(text: str, every: int) -> str:
    return " ".join(w if i % every else "EDIT" for i, w in enumerate(text.split()))


# --- MinHash --------------------------------------------------------------------------

def test_bands_rows_from_fp_fn_optimum():
    params = MinHashParams.create(threshold=0.8, num_perm=128)
    assert (params.bands, params.rows) == (9, 13)


def test_signature_estimates_jaccard_and_is_seeded():
    other = edited(TEXT, 40)
    params = MinHashParams.create(num_perm=256)
    sig_a = signature(shingle_hashes(TEXT, "word", 5), params)
    sig_b = sketch(other, params)
    truth = jaccard(shingle_set(TEXT, params), shingle_set(other, params))
    assert 0.6 < truth < 0.95
    assert abs(estimated_jaccard(sig_a, sig_b) - truth) < 0.08
    assert np.array_equal(sig_a, sketch(TEXT, params))
    other_seed = MinHashParams.create(num_perm=256, seed=1)
    assert not np.array_equal(sig_a, sketch(TEXT, other_seed))


def test_token_id_shingles_estimate_jaccard_like_words():
    """The report's shingle source: n-grams of token ids through the same signature."""
    rng = np.random.default_rng(7)
    ids = rng.integers(0, 50_000, size=4000)
    changed = ids.copy()
    changed[rng.choice(ids.size, 40, replace=False)] += 1
    params = MinHashParams(shingle="token", ngram=5, num_perm=256, bands=8, rows=8)
    truth = jaccard(shingle_set(ids, params), shingle_set(changed, params))
    assert 0.7 < truth < 0.95
    assert abs(estimated_jaccard(sketch(ids, params), sketch(changed, params)) - truth) < 0.08
    # dtype does not matter, order does; fewer ids than one n-gram are one shingle
    assert np.array_equal(sketch(ids.astype(np.int32), params), sketch(ids, params))
    assert not np.array_equal(sketch(ids[::-1], params), sketch(ids, params))
    assert len(shingle_hashes(np.array([3, 4]), "token", 5)) == 1
    assert len(shingle_hashes(np.array([], dtype=np.int64), "token", 5)) == 0


def test_word_hashes_follow_regex_words_in_any_script(monkeypatch):
    text = "Straße, ΑΒΓ déjà-vu 東京 x_y 12,5 " + TEXT
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
    params = MinHashParams.create()
    hashes = shingle_hashes(TEXT, "word", 5)
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


def test_band_buckets_gather_members_sharing_a_key():
    buckets = band_buckets([("a", [(0, 1), (1, 5)]), ("b", [(0, 1), (1, 6)]), ("c", [(0, 2)])])
    assert buckets == {(0, 1): ["a", "b"], (1, 5): ["a"], (1, 6): ["b"], (0, 2): ["c"]}


# --- near-dedup decisions -------------------------------------------------------------

def test_sketch_document_and_eligibility():
    params = MinHashParams.create()
    perms = params.band_permutations()
    doc = Document("d", "s", "text", TEXT)
    got = near_dedup.sketch_document(doc, params, perms, verify=True)
    assert got.candidate == Candidate("d", "s", len(TEXT), 0.0)
    assert got.keys == band_keys(sketch(TEXT, params), params)
    assert np.array_equal(got.shingles, shingle_set(TEXT, params))
    assert near_dedup.sketch_document(doc, params, perms, verify=False).shingles is None
    assert near_dedup.sketch_document(Document("e", "s", "text", " ,. "), params, perms,
                                      verify=True) is None
    assert near_dedup.eligible(doc, frozenset()) and near_dedup.eligible(doc, {"text"})
    assert not near_dedup.eligible(doc, {"repo"})


def test_salts_spread_ids_evenly_and_keep_the_band_key():
    counts = Counter(near_dedup.salt(f"doc-{i}", 4) for i in range(4000))
    assert set(counts) == {0, 1, 2, 3} and min(counts.values()) > 900
    assert near_dedup.salt("doc-1", 1) == 0
    cand = Candidate("doc-1", "s", 10, 0.0)
    entries = near_dedup.bucket_entries(near_dedup.NearSketch(cand, [(0, 11), (1, 12)], None), 4)
    part = near_dedup.salt("doc-1", 4)
    assert entries == [((0, 11, part), "doc-1"), ((1, 12, part), "doc-1")]


def test_salted_stars_join_through_the_heads():
    """Salted sub-buckets are stars of their own; the heads' star links them into one."""
    ids = [f"doc-{i:02d}" for i in range(12)]
    sketches = [near_dedup.NearSketch(Candidate(i, "s", 1, 0.0), [(0, 7)], None) for i in ids]
    buckets = shuffle(e for s in sketches for e in near_dedup.bucket_entries(s, 3))
    assert len(buckets) == 3
    edges = {e for _, members in buckets for e in near_dedup.bucket_star(members)}
    heads = shuffle(near_dedup.bucket_head(key, members) for key, members in buckets)
    edges |= {e for _, members in heads for e in near_dedup.bucket_star(members)}
    assert all(high > low for high, low in edges) and len(edges) == len(ids) - 1
    assert set(union_find(edges).values()) == {"doc-00"}


def test_verification_keeps_only_pairs_at_the_threshold():
    params = MinHashParams.create()
    sets = {"a": shingle_set(TEXT, params), "b": shingle_set(edited(TEXT, 200), params),
            "c": shingle_set(edited(TEXT, 6), params)}
    edges = [("b", "a"), ("c", "a"), ("c", "b")]
    pending = shuffle(p for high, lows in shuffle(edges)
                      for p in near_dedup.carry_high_set(high, lows, [sets[high]]))
    kept = [e for low, waiting in pending
            for e in near_dedup.verified_edges(low, waiting, [sets[low]], params.threshold)]
    assert kept == [("b", "a")]


def test_keep_policy_reads_the_filter_score_not_a_reader_signal():
    judged = Document("j", "s", "book", "x", meta={"quality": {"score": 0.9},  # the reader's
                                                   "filter": {"quality": {"score": 0.25}}})
    assert Candidate.of(judged).score == 0.25
    assert Candidate.of(Document("n", "s", "book", "x", meta={"quality": {"score": 0.9}})
                        ).score == 0.0


def test_keep_policy_longest_then_score_then_id():
    members = [Candidate("b", "s", 100, 0.5), Candidate("a", "s", 100, 0.5),
               Candidate("c", "s", 100, 0.9), Candidate("d", "s", 90, 1.0)]
    keeper, drops, record = resolve_cluster(members, "a")
    assert keeper.id == "c"
    assert [d.detail for d in drops] == ["duplicate-of:c cluster:a"] * 3
    assert record["members"] == ["a", "b", "c", "d"]


def test_component_verdicts_and_their_effect_on_documents():
    docs = {i: Document(i, "s", "text", "x" * n, meta={"k": 1})
            for i, n in (("a", 5), ("b", 9), ("c", 9), ("z", 3))}
    labels = {"a": "a", "b": "a", "c": "a"}
    members = shuffle(m for i in sorted(docs) for m in near_dedup.label_members(
        [labels[i]] if i in labels else [], [Candidate.of(docs[i])]))
    assert [(label, [c.id for c in cs]) for label, cs in members] == [("a", ["a", "b", "c"])]
    record, verdicts = near_dedup.component_decisions(*members[0])
    assert record == {"cluster": "a", "keep": "b", "members": ["a", "b", "c"], "size": 3,
                      "method": "minhash"}
    by_id = {v.doc_id: v for v in verdicts}
    assert by_id["b"].drop is None
    assert by_id["c"].drop.detail == "duplicate-of:b cluster:a"
    assert by_id["c"].drop.reason == "duplicate"
    kept = near_dedup.apply_verdict([docs["b"]], [by_id["b"]])[0]
    assert kept.meta == {"k": 1, "dedupe": {"cluster": "a", "cluster_size": 3}}
    assert kept.text == docs["b"].text and docs["b"].meta == {"k": 1}
    assert near_dedup.apply_verdict([docs["a"]], [by_id["a"]]) == [by_id["a"].drop]
    assert near_dedup.apply_verdict([docs["z"]], []) == [docs["z"]]  # in no cluster


def test_repeated_files_are_cut_from_all_but_the_first_copy():
    copies = [("r2", "file:vendored/a.py"), ("r1", "file:a.py"), ("r1", "file:copy.py"),
              ("r3", "file:a.py")]
    assert copies_to_cut(copies) == [("r2", ("file:vendored/a.py", "r1")),
                                     ("r3", ("file:a.py", "r1"))]


# --- connected components -------------------------------------------------------------

def unrolled_rounds(edges: Iterable[Edge], rounds: int) -> list[Edge]:
    """The Beam rounds step by step: both directions, large-star, small-star."""
    current = list(edges)
    for _ in range(rounds):
        grouped = shuffle(d for e in current for d in both_directions(e))
        large = [e for node, nbrs in grouped for e in large_star(node, nbrs)]
        current = [e for node, smaller in shuffle(large) for e in small_star(node, smaller)]
    return current


def finish(edges: list[Edge]) -> tuple[dict[str, str], int]:
    """The Beam finish: node views, union-find of the broken ones, final labels."""
    ends = shuffle([(h, ("up", lo)) for h, lo in edges] + [(lo, ("down", h)) for h, lo in edges])
    views = {node: node_view(node, [n for d, n in seen if d == "up"],
                             [n for d, n in seen if d == "down"]) for node, seen in ends}
    residual = {e for _, unfinished in views.values() for e in unfinished}
    fixed = union_find(residual)
    return {node: final_label(node, view[0], fixed) for node, view in views.items()}, len(residual)


def test_components_converge_on_long_shuffled_chain():
    rng = random.Random(3)
    nodes = [f"n{i:05d}" for i in range(2000)]
    rng.shuffle(nodes)
    edges = [(max(a, b), min(a, b)) for a, b in zip(nodes, nodes[1:], strict=False)]
    truth = union_find(edges)
    assert set(truth.values()) == {min(nodes)} and list(truth) == sorted(nodes)
    # enough unrolled rounds converge to stars on their own ...
    assert finish(unrolled_rounds(edges, 12)) == (truth, 0)
    # ... and the finish is exact after any number of rounds
    for rounds in (0, 1, 3):
        labels, residual = finish(unrolled_rounds(edges, rounds))
        assert labels == truth and residual > 0


def test_union_find_labels_are_smallest_members_of_many_components():
    rng = random.Random(5)
    edges, expected = [], {}
    for _component in range(300):
        members = [f"{rng.getrandbits(64):016x}" for _ in range(rng.randint(2, 30))]
        for i in range(1, len(members)):
            a, b = members[i], members[rng.randrange(i)]
            edges.append((max(a, b), min(a, b)))
        expected.update({m: min(members) for m in members})
    rng.shuffle(edges)
    assert union_find(edges) == dict(sorted(expected.items()))
