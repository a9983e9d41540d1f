"""Grouping: Quest-style keyword groups and ICP chains over real stdlib sources."""

from __future__ import annotations

from collections import Counter

from synth_fixture import stdlib_documents

from longweave.filters import minhash
from longweave.filters.minhash import MinHashParams
from longweave.schemas.document import Document
from longweave.schemas.recipe_synth import GroupingConfig
from longweave.synth.grouping import group_documents, make_sketch, neighbours, select_keywords


def sketches(config: GroupingConfig, docs: list[Document] | None = None):
    return [make_sketch(d, config) for d in (docs or stdlib_documents())]


def test_keyword_groups_cover_every_document_once_and_share_their_centre() -> None:
    config = GroupingConfig(method="keywords", keyword_df_cap_floor=3, keyword_df_cap_fraction=0.2)
    sk = sketches(config)
    groups = group_documents(sk, config, seed=3)
    members = Counter(d for g in groups for d in g.member_ids)
    assert set(members) == {s.doc_id for s in sk} and set(members.values()) == {1}
    keywords = select_keywords(sorted(sk, key=lambda s: s.doc_id), config)
    df = Counter(t for kws in keywords.values() for t in kws)
    multi = [g for g in groups if len(g.member_ids) > 1]
    assert multi, "related stdlib modules (json/*, http/*, email/*) should group"
    for group in multi:
        assert all(group.centre in keywords[d] for d in group.member_ids)
        assert df[group.centre] >= 2


def test_keyword_cap_keeps_common_terms_out() -> None:
    docs = stdlib_documents()
    config = GroupingConfig(keyword_df_cap_floor=2, keyword_df_cap_fraction=0.01)
    sk = sketches(config, docs)
    document_frequency = Counter(t for s in sk for t, _ in s.terms)
    keywords = select_keywords(sk, config)
    for kws in keywords.values():
        assert all(document_frequency[t] <= 2 for t in kws)


def test_group_size_cap_splits_large_groups() -> None:
    config = GroupingConfig(keyword_df_cap_floor=12, keyword_df_cap_fraction=1.0,
                            max_group_docs=2)
    groups = group_documents(sketches(config), config, seed=0)
    assert max(len(g.member_ids) for g in groups) <= 2


def test_icp_walk_uses_each_document_once_and_steps_to_neighbours() -> None:
    config = GroupingConfig(method="icp", max_chain_docs=4, neighbours=3)
    sk = sketches(config)
    graph = neighbours(sorted(sk, key=lambda s: s.doc_id), config)
    groups = group_documents(sk, config, seed=1)
    used = [d for g in groups for d in g.member_ids]
    assert sorted(used) == sorted(s.doc_id for s in sk)
    for group in groups:
        assert len(group.member_ids) <= 4
        for a, b in zip(group.member_ids, group.member_ids[1:], strict=False):
            assert b in graph[a]


def test_icp_minhash_puts_a_near_copy_next_to_its_original() -> None:
    docs = stdlib_documents()
    original = docs[3]
    lines = original.text.splitlines()
    copy = Document("copy-of-" + original.id, "stdlib", "text",
                    "\n".join(lines[: len(lines) * 9 // 10]), meta={"title": "copy"})
    config = GroupingConfig(method="icp", similarity="minhash", minhash_threshold=0.3)
    groups = group_documents(sketches(config, [*docs, copy]), config, seed=0)
    chain = next(g.member_ids for g in groups if copy.id in g.member_ids)
    i = chain.index(copy.id)
    assert original.id in chain[max(0, i - 1): i + 2]


def test_same_seed_same_groups_and_seed_matters() -> None:
    config = GroupingConfig(keyword_df_cap_floor=4)
    sk = sketches(config)
    assert group_documents(sk, config, 5) == group_documents(list(reversed(sk)), config, 5)
    runs = {tuple(g.member_ids for g in group_documents(sk, config, s)) for s in range(6)}
    assert len(runs) > 1


def test_icp_minhash_sketch_is_the_shared_minhash_of_word_3grams() -> None:
    """Grouping keeps its own settings (word 3-grams, `minhash_perm`, seed 1) on the one
    MinHash that dedupe and the report use; case and punctuation do not matter."""
    doc = stdlib_documents()[0]
    config = GroupingConfig(method="icp", similarity="minhash", minhash_perm=32)
    params = MinHashParams.create(shingle="word", ngram=3, num_perm=32,
                                  threshold=config.minhash_threshold, seed=1)
    sketch = make_sketch(doc, config)
    assert sketch.minhash == tuple(minhash.sketch(doc.text, params).tolist())
    shouted = Document("loud", "stdlib", "text", doc.text.upper().replace(".", " ; "))
    assert make_sketch(shouted, config).minhash == sketch.minhash
