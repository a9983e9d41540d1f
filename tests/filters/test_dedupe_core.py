"""Pure dedupe core: the very functions the Beam dedupe steps call, without Beam.

Where a Beam step is a GroupByKey, `shuffle` stands in for it (sorted groups of values).
"""

from __future__ import annotations

import random
import re
import textwrap
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable

import numpy as np
import pytest

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
from longweave.filters.exact import (
    Candidate,
    copies_to_cut,
    exact_key,
    normalised_text_hash,
    resolve_cluster,
    resolve_exact_candidates,
)
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
from longweave.schemas.document import Document, Span

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


def test_verified_banding_aims_at_recall_under_the_candidate_bound():
    """With verification the S-curve moves left: far fewer missed pairs at the threshold,
    the mean candidate probability below it still at most `VERIFIED_MEAN_FP`, and no
    banding within that bound misses less. Explicit bands and rows still win."""
    verified = MinHashParams.create(threshold=0.8, num_perm=128, verify=True)
    assert (verified.bands, verified.rows) == (18, 7)
    below = np.linspace(0, 0.8, 801)[:-1] + 0.0005
    above = np.linspace(0.8, 1, 201)[:-1] + 0.0005

    def curve(s: np.ndarray, b: int, r: int) -> np.ndarray:
        return 1 - (1 - s ** r) ** b

    assert curve(below, 18, 7).mean() <= minhash.VERIFIED_MEAN_FP
    missed = (1 - curve(above, 18, 7)).mean()
    assert missed < (1 - curve(above, 9, 13)).mean() / 50
    assert curve(np.array([0.8]), 18, 7)[0] > 0.98 > 0.5 > curve(np.array([0.8]), 9, 13)[0]
    for b in range(1, 129):  # the bound is binding: every banding that misses less breaks it
        for r in range(1, 128 // b + 1):
            if (1 - curve(above, b, r)).mean() < missed * 0.95:
                assert curve(below, b, r).mean() > minhash.VERIFIED_MEAN_FP * 0.98, (b, r)
    explicit = MinHashParams.create(threshold=0.8, bands=9, rows=13, verify=True)
    assert (explicit.bands, explicit.rows) == (9, 13)


def test_batched_signatures_equal_one_at_a_time():
    """A bundle's signatures in one call: empty sets, tiny ones and one larger than a
    block (so documents straddle block boundaries) all equal their own `signature`."""
    params = MinHashParams.create(verify=True)
    perms = params.band_permutations()
    rng = np.random.default_rng(3)
    block = minhash._BLOCK_VALUES // len(perms[0])
    sets = [rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
            for n in (0, 1, 5, block + 7, 0, 300, block - 2, 2)]
    got = minhash.signatures(sets, params, perms)
    assert got.shape == (len(sets), len(perms[0]))
    for row, values in zip(got, sets, strict=True):
        expected = (np.full(len(perms[0]), minhash.MAX_HASH) if not len(values) else
                    (perms[0][:, None] * values[None, :] + perms[1][:, None]).min(axis=1))
        assert np.array_equal(row, expected)
        assert np.array_equal(row, signature(values, params, perms))
    docs = [Document(f"d{i}", "s", "text", t) for i, t in
            enumerate([TEXT, "", TEXT[:200], edited(TEXT, 9)])]
    batch = near_dedup.sketch_documents(docs, params, perms)
    assert batch == [near_dedup.sketch_document(d, params, perms) for d in docs]
    assert batch[1] is None


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
    text = "Straße, ΑΒΓ déjà-vu 東京 x_y 12,5 ﬁne ＡＢ " + TEXT
    tokens = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    hashes = word_hashes(text).tolist()
    assert len(hashes) == len(tokens)
    by_word = dict(zip(tokens, hashes, strict=True))
    assert [by_word[t] for t in tokens] == hashes  # same word, same hash
    assert len(set(by_word.values())) == len(by_word)  # different words, different hashes
    # ASCII texts take a faster path: shared words must still hash alike
    assert word_hashes("Hello World")[0] == word_hashes("hello wörld")[0]
    # one normal form: ligatures, full-width letters and ß fold as exact dedup folds them
    assert word_hashes("ﬁne ＡＢ Straße").tolist() == word_hashes("fine ab strasse").tolist()
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
    got = near_dedup.sketch_document(doc, params, perms)
    assert got.candidate == Candidate("d", "s", len(TEXT), 0.0)
    assert got.keys == band_keys(sketch(TEXT, params), params) and got.shingles is None
    verified = near_dedup.sketch_document(doc, params, perms, verify=True)
    assert np.array_equal(verified.shingles, shingle_set(TEXT, params))
    assert near_dedup.sketch_document(Document("e", "s", "text", " ,. "), params, perms) is None
    assert near_dedup.eligible(doc, frozenset()) and near_dedup.eligible(doc, {"text"})
    assert not near_dedup.eligible(doc, {"repo"})


def test_salts_spread_ids_evenly_and_keep_the_band_key():
    counts = Counter(near_dedup.salt(f"doc-{i}", 4) for i in range(4000))
    assert set(counts) == {0, 1, 2, 3} and min(counts.values()) > 900
    assert near_dedup.salt("doc-1", 1) == 0
    blocks = near_dedup.bucket_blocks([("doc-1", [(0, 11), (1, 12)])], 4, partitions=1)
    part = near_dedup.salt("doc-1", 4)
    assert [b for _, b in blocks] and near_dedup.block_buckets(
        [b for _, b in blocks], 4, singletons=True) == [((0, 11, part), ["doc-1"]),
                                                        ((1, 12, part), ["doc-1"])]


def _shuffled_blocks(entries, salts, partitions, chunk):
    """What a partition's reducer gets: the blocks of every bundle (`chunk` documents
    each), grouped by partition."""
    grouped = defaultdict(list)
    for start in range(0, len(entries), chunk):
        for partition, block in near_dedup.bucket_blocks(entries[start:start + chunk], salts,
                                                         partitions):
            grouped[partition].append(block)
    return grouped


def test_blocks_find_every_bucket_whatever_the_bundles():
    """The buckets from blocks equal a dictionary of `(band, key, salt)` built entry by
    entry, for any bundle size; each bucket is whole in one partition."""
    rng = random.Random(5)
    entries = [(f"doc-{i:03d}", [(band, rng.randrange(40) * (1 << 57) + band % 3)
                                 for band in range(4)]) for i in range(300)]
    expected = defaultdict(set)
    for doc_id, keys in entries:
        for band, key in keys:
            expected[(band, key, near_dedup.salt(doc_id, 2))].add(doc_id)
    sizes = Counter(len(m) for m in expected.values())
    assert min(sizes) <= near_dedup.CLIQUE_MAX < max(sizes)  # cliques and stars both
    for chunk in (1, 7, 300):
        grouped = _shuffled_blocks(entries, 2, 5, chunk)
        found = [b for blocks in grouped.values()
                 for b in near_dedup.block_buckets(blocks, 2, singletons=True)]
        assert {k: set(m) for k, m in found} == expected and len(found) == len(expected)
        several = [b for blocks in grouped.values() for b in near_dedup.block_buckets(blocks, 2)]
        assert sorted(k for k, _ in several) == sorted(k for k, m in expected.items()
                                                       if len(m) > 1)
        stars = {e for blocks in grouped.values() for e in near_dedup.block_stars(blocks, 2)}
        assert stars == {e for m in expected.values() for e in near_dedup.bucket_star(m)}


def test_salted_stars_join_through_the_heads():
    """Salted sub-buckets are stars of their own; the heads' star links them into one."""
    ids = [f"doc-{i:02d}" for i in range(40)]
    grouped = _shuffled_blocks([(i, [(0, 7)]) for i in ids], 3, 4, 9)
    buckets = [b for blocks in grouped.values() for b in near_dedup.block_buckets(blocks, 3)]
    assert len(buckets) == 3 and min(len(m) for _, m in buckets) > near_dedup.CLIQUE_MAX
    assert len(grouped) == 3  # the parts of the hot bucket in different partitions
    edges = {e for blocks in grouped.values() for e in near_dedup.block_stars(blocks, 3)}
    heads = defaultdict(list)
    for blocks in grouped.values():
        for key, head in near_dedup.block_heads(blocks, 3):
            heads[key].append(head)
    edges |= {e for members in heads.values() for e in near_dedup.bucket_star(members)}
    # star edges of the sub-buckets, plus every pair of the three heads
    assert all(high > low for high, low in edges) and len(edges) == len(ids) - 3 + 3
    assert set(union_find(edges).values()) == {"doc-00"}


def test_small_buckets_give_every_pair_large_ones_a_star():
    """A family of three whose variants are closer to each other than to the smallest id
    keeps its inner pair as a candidate; a hot bucket stays linear in its size."""
    small = ["c", "a", "b", "a"]
    assert near_dedup.bucket_star(small) == [("b", "a"), ("c", "a"), ("c", "b")]
    hot = [f"m{i:03d}" for i in range(near_dedup.CLIQUE_MAX + 1)]
    assert near_dedup.bucket_star(reversed(hot)) == [(m, "m000") for m in hot[1:]]


def test_verification_keeps_only_pairs_at_the_threshold():
    """The plan sends each candidate's set where its pairs are checked; nodes on no edge
    send nothing; the check keeps the pairs at the threshold."""
    params = MinHashParams.create()
    sets = {"a": shingle_set(TEXT, params), "b": shingle_set(edited(TEXT, 200), params),
            "c": shingle_set(edited(TEXT, 6), params), "d": shingle_set(TEXT[:500], params)}
    edges = [("b", "a"), ("c", "a"), ("c", "b")]
    plan = dict(near_dedup.verification_plan(node, ends) for node, ends in
                shuffle(end for e in edges for end in near_dedup.edge_ends(e)))
    assert plan == {"a": near_dedup.PlanEntry(True, ()),
                    "b": near_dedup.PlanEntry(True, ("a",)),
                    "c": near_dedup.PlanEntry(False, ("a", "b"))}
    joined = shuffle([*((n, ("plan", e)) for n, e in plan.items()),
                      *((n, ("ref", s)) for n, s in sets.items())])
    messages = shuffle(m for node, got in joined for m in near_dedup.verification_messages(
        node, [v for k, v in got if k == "plan"], [v for k, v in got if k == "ref"]))
    assert [(low, sorted(h or "-" for h, _ in got)) for low, got in messages] == [
        ("a", ["-", "b", "c"]), ("b", ["-", "c"])]
    kept = [e for low, got in messages
            for e in near_dedup.verified_edges(low, got, params.threshold)]
    assert kept == [("b", "a")]


def test_spilled_sets_read_back_the_same(tmp_path):
    """Sets spilled by a sketching worker come back exactly; the check gives the same
    edges on references as on the sets themselves."""
    params = MinHashParams.create(verify=True)
    perms = params.band_permutations()
    docs = [Document(i, "s", "text", t) for i, t in
            (("a", TEXT), ("b", edited(TEXT, 200)), ("c", edited(TEXT, 6)))]
    sketches = near_dedup.sketch_documents(docs, params, perms, verify=True)
    spilled = near_dedup.spill_sets(sketches, str(tmp_path / "batch.u32"))
    assert [s.shingles[1:] for s in spilled] == [
        (0, len(sketches[0].shingles)),
        (len(sketches[0].shingles), len(sketches[1].shingles)),
        (len(sketches[0].shingles) + len(sketches[1].shingles), len(sketches[2].shingles))]
    for mem, ref in zip(sketches, spilled, strict=True):
        assert np.array_equal(near_dedup.load_set(ref.shingles), mem.shingles)
    own, high = spilled[0].shingles, spilled[1].shingles
    assert near_dedup.verified_edges("a", [(None, own), ("b", high), ("c", spilled[2].shingles)],
                                     0.8) == [("b", "a")]


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
    kept = near_dedup.final_document(docs["b"], {}, {}, by_id)
    assert kept.meta == {"k": 1, "dedupe": {"cluster": "a", "cluster_size": 3}}
    assert kept.text == docs["b"].text and docs["b"].meta == {"k": 1}
    # a dropped member's drop left the keep policy already: nothing more is written
    assert near_dedup.final_document(docs["a"], {}, {}, by_id) is None
    assert near_dedup.final_document(docs["z"], {}, {}, by_id) == docs["z"]  # in no cluster
    assert near_dedup.final_document(docs["b"], {"b": True}, {}, by_id) is None  # exact drop


def test_final_document_applies_cuts_and_drops_an_emptied_repo():
    body = "def f():\n    return 1\n"
    text = f"<repo_name>r\n<file_sep>a.py\n{body}<file_sep>b.py\n{body}"
    first = text.index("<file_sep>a.py")
    second = text.index("<file_sep>b.py")
    repo = Document("r", "code", "repo", text, [Span(first, second, "file:a.py"),
                                                Span(second, len(text), "file:b.py")])
    cut = near_dedup.final_document(repo, {}, {"r": [("file:a.py", "k")]}, {})
    assert [s.label for s in cut.spans] == ["file:b.py"]
    gone = near_dedup.final_document(
        repo, {}, {"r": [("file:a.py", "k"), ("file:b.py", "k")]}, {})
    assert gone.reason == "duplicate" and gone.detail.startswith("duplicate-of:k")
    assert near_dedup.prepared(repo, {}, {}) is repo


def test_exact_groups_decide_on_candidates_and_hash_like_the_regex_definition():
    """The numpy fold and whitespace collapse over UTF-8 bytes give the digest of NFKC +
    casefold + `\\s+` -> " " (one digest per normalised text)."""
    import unicodedata

    import xxhash

    def by_regex(text: str) -> str:
        normal = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
        return xxhash.xxh3_128_hexdigest(normal.encode("utf-8", "surrogatepass"))

    rng = random.Random(5)
    alphabet = "ab C\t\n\r \x1c\x85\xa0\u2028\u3000\u00dfSs\ufb01\u03a3\u03c3\ud800\u00e9"
    samples = ["", " ", "  a  ", "\n\nx", "x \n", "A\u3000b", TEXT[:3000], "\u1e9e x",
               "\u00c9t\u00c9 \u03a3\u039f\u03a3 \u0130i", "\u00c5ngstr\u00f6m\u00a0 \u212b",
               "ss X", "\ufb01", "fi"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(30))) for _ in range(3000)]
    assert [normalised_text_hash(t) for t in samples] == [by_regex(t) for t in samples]
    assert normalised_text_hash("\u1e9e  X") == normalised_text_hash("ss x")  # ẞ folds to ss
    a = Document("a", "s", "text", "Hello  World", meta={"filter": {"quality": {"score": .5}}})
    b = Document("b", "s", "text", "hello world")
    (key, cand_a), (key_b, cand_b) = exact_key(a), exact_key(b)
    assert key == key_b and cand_a == Candidate("a", "s", 12, 0.5)
    drop, record = resolve_exact_candidates(key, [cand_b, cand_a])
    assert drop.doc_id == "b" and drop.detail == f"duplicate-of:a cluster:exact-{key[:16]}"
    assert record["method"] == "exact" and record["members"] == ["a", "b"]
    assert resolve_exact_candidates(key, [cand_a]) == []


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


def test_a_pair_whose_sizes_cannot_reach_the_threshold_is_rejected_unread(tmp_path):
    """J <= smaller / larger: such a pair never reads its sets (here: files that do not
    exist), while a pair of sizes that could reach it is read and checked exactly."""
    missing = str(tmp_path / "absent.u32")
    assert near_dedup.verified_edges(
        "low", [(None, (missing, 0, 100)), ("high", (missing, 0, 79))], 0.8) == []
    with pytest.raises(OSError):
        near_dedup.verified_edges("low", [(None, (missing, 0, 100)), ("high", (missing, 0, 80))],
                                  0.8)
    same = np.arange(10, dtype=np.uint32)
    assert near_dedup.verified_edges("low", [(None, same), ("high", same[:8])], 0.8) == [
        ("high", "low")]  # 8 / 10 is exactly the threshold: kept


@pytest.mark.parametrize("shingle", ["word", "char"])
def test_one_fingerprint_pass_gives_what_the_exact_and_near_steps_give_apart(shingle):
    """The dedupe shell's single pass (one fold for both) equals `exact_key` and
    `shingle_hashes` computed separately; a kind left out of near-dedup gets no shingles."""
    params = MinHashParams.create(shingle=shingle, ngram=5 if shingle == "word" else 9)
    texts = [TEXT[:4000], "Straße ﬁne ＡＢ \u03a3\u039f\u03a3 \u00a0 end", "", "  x  "]
    for i, text in enumerate(texts):
        doc = Document(f"d{i}", "s", "text", text)
        key, hashes = near_dedup.fingerprint(doc, params, frozenset(), exact=True)
        assert key == exact_key(doc)[0]
        assert np.array_equal(hashes, shingle_hashes(text, params.shingle, params.ngram))
        assert near_dedup.fingerprint(doc, params, frozenset(), exact=False)[0] is None
        assert near_dedup.fingerprint(doc, params, frozenset({"code"}), exact=True) == (
            key, None)
