"""Per-shard report numbers against values computed by hand on the tiny output.

See tests/test_report_fixture.py for the layout the expected numbers come from.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from report_fixture import build_output

from longweave.pipeline.packing.shards import shard_paths
from longweave.pipeline.report.build import build_report
from longweave.pipeline.report.dependency import remention_gaps
from longweave.pipeline.report.diversity import (
    SampledSegment,
    distinct_count,
    distinct_ngram_ratios_by_source,
    near_duplicates,
    ngram_keys,
    segment_keys,
)
from longweave.pipeline.report.inputs import read_segment_index
from longweave.pipeline.report.lengths import document_lengths
from longweave.pipeline.report.stats import apply_across_shards, report_name, shard_stats


def _h(*weights: float) -> float:
    total = sum(weights)
    return round(-sum(w / total * math.log2(w / total) for w in weights), 6)


@pytest.fixture(scope="module")
def stats(tmp_path_factory):
    out = str(build_output(tmp_path_factory.mktemp("out")))
    index = read_segment_index(out)
    lengths = document_lengths(index)
    results = [shard_stats(out, p, index, lengths, None) for p in shard_paths(out)]
    apply_across_shards(results)
    return {r.rel_path: r.stats for r in results}


def test_shards_are_listed_by_bucket_and_named(stats):
    assert list(stats) == ["8/shard-00000.arrow", "8/shard-00001.arrow", "16/shard-00000.arrow"]
    assert report_name("16/shard-00000.arrow") == "16-shard-00000.json"


def test_counts_fill_and_lengths(stats):
    s = stats["8/shard-00000.arrow"]
    c = s["counts"]
    assert (c["rows"], c["tokens"], c["pad_tokens"], c["content_tokens"]) == (3, 24, 4, 20)
    assert (c["segments"], c["distinct_segments"], c["documents"], c["padded_rows"]) == (4, 4, 3, 1)
    assert c["row_fill"]["mean"] == round(20 / 24, 6)
    assert c["row_fill"]["distribution"]["min"] == 0.5
    seg = s["lengths"]["segment_tokens"]
    assert (seg["n"], seg["total"], seg["min"], seg["max"]) == (4, 20, 3, 8)
    assert seg["percentiles"]["p50"] == 4.5  # median of 3, 4, 5, 8
    assert seg["histogram"] == {"edges": [2, 4, 8], "counts": [1, 2, 1]}
    doc = s["lengths"]["document_tokens"]  # A=5, B=3+4 (both pieces), C=8
    assert (doc["n"], doc["total"], doc["percentiles"]["p50"]) == (3, 20, 7.0)
    assert doc["mean"] == round(20 / 3, 6)
    assert s["lengths"]["document_chars"]["total"] == 25 + 35 + 40


def test_splits_shares_and_quality(stats):
    s = stats["8/shard-00000.arrow"]
    assert s["splits"]["segments_by_split"] == {"cut": 1, "none": 2, "span": 1}
    assert s["splits"]["tokens_by_split"] == {"cut": 4, "none": 13, "span": 3}
    assert (s["splits"]["split_documents"], s["splits"]["truncated_documents"]) == (1, 1)
    assert s["shares"]["source"] == {"tokens": {"books": 12, "code": 8},
                                     "share": {"books": 0.6, "code": 0.4}}
    assert s["shares"]["kind"]["share"] == {"book": 0.6, "repo": 0.4}
    books = s["quality"]["books"]
    # the reader's signal under its name, the filter's score prefixed: neither replaces the other
    assert books["filter_score"]["mean"] == 0.7 and books["alpha"]["mean"] == 0.8
    assert books["filter_score"]["n"] == 2  # documents, not pieces
    assert s["by_source"]["books"]["quality_score"] == 0.7
    assert s["by_source"]["code"]["quality_score"] is None


def test_up_sampled_copy_is_a_repeat_not_a_new_document(stats):
    assert stats["8/shard-00001.arrow"]["counts"]["repeated_segments"] == 0
    c16 = stats["16/shard-00000.arrow"]["counts"]
    assert (c16["tokens"], c16["pad_tokens"], c16["row_fill"]["mean"]) == (32, 6, 0.8125)


def test_distinct_ngrams_and_compression(stats):
    div = stats["8/shard-00000.arrow"]["diversity"]
    # 20 unigrams, 16 distinct; 16 bigrams, (6,7) and (11,12) repeat
    assert div["distinct_ngrams"]["1"] == 0.8
    assert div["distinct_ngrams"]["2"] == 0.875
    assert div["sample"] == {"rows": 3, "segments": 4, "tokens": 20}
    comp = div["compression"]
    assert comp["basis"] == "token-ids-uint32" and comp["raw_bytes"] == 20 * 4
    assert comp["ratio"] == round(comp["raw_bytes"] / comp["compressed_bytes"], 6)


def test_near_duplicates_inside_and_across(stats):
    near = {k: v["diversity"]["near_duplicates"] for k, v in stats.items()}
    # C (8/0) and E (8/1) carry the same ids; A in both shards is one segment id: a copy
    assert near["8/shard-00000.arrow"]["across_shards"] == {"segments": 1, "rate": 0.25}
    assert near["8/shard-00001.arrow"]["across_shards"] == {"segments": 1, "rate": 0.333333}
    assert near["8/shard-00000.arrow"]["inside_shard"]["rate"] == 0.0
    # G and G2 share a row in 16/0; F does not match
    assert near["16/shard-00000.arrow"]["inside_shard"] == {"segments": 2, "rate": 0.666667}
    assert near["16/shard-00000.arrow"]["across_shards"]["segments"] == 0


def test_minhash_bands_find_near_not_unrelated_sequences():
    rng = np.random.default_rng(7)
    base = rng.integers(0, 50_000, size=3000)
    edited = base.copy()
    edited[1500] += 1  # one token changed: Jaccard of 5-gram shingles ~0.997
    other = rng.integers(0, 50_000, size=3000)
    keys = {"a": segment_keys(base), "b": segment_keys(edited), "c": segment_keys(other)}
    flagged = near_duplicates({"s": keys}, across=False)["s"]
    assert flagged == {"a", "b"}
    assert near_duplicates({"x": {"a": keys["a"]}, "y": {"b": keys["b"]}}, across=True) == {
        "x": {"a"}, "y": {"b"}}


def test_entropy_over_sources_authors_repos_tools(stats):
    ent = stats["8/shard-00000.arrow"]["diversity"]["entropy"]
    assert ent["source"]["bits"] == _h(12, 8) and ent["source"]["distinct"] == 2
    assert ent["author"]["bits"] == _h(5, 7) and ent["author"]["coverage"] == 0.6
    assert ent["repo"] == {"bits": 0.0, "normalized": 0.0, "distinct": 1, "coverage": 0.4}
    tools = stats["16/shard-00000.arrow"]["diversity"]["entropy"]["tools"]
    assert tools["bits"] == _h(3, 1) and tools["distinct"] == 2


def test_long_documents_count_all_pieces(stats):
    long8 = stats["8/shard-00001.arrow"]["length"]["long_documents"]
    # L = 40000 + 3 tokens >= 32K: its 3 packed tokens of 16 content tokens
    assert long8["32K"] == {"threshold": 32768, "tokens": 3, "share": 0.1875}
    assert long8["128K"]["tokens"] == 0
    assert stats["8/shard-00000.arrow"]["length"]["long_documents"]["32K"]["share"] == 0.0


def test_dependency_distances_from_meta_and_depth(stats):
    code = stats["8/shard-00000.arrow"]["length"]["dependency_distance"]["code"]
    # the tokenize stage measured C's two links as 20 and 40 tokens
    assert (code["n"], code["mean"], code["min"], code["max"]) == (2, 30.0, 20, 40)
    assert code["histogram"] == {"edges": [16, 32], "counts": [1, 1]}
    length16 = stats["16/shard-00000.arrow"]["length"]
    assert length16["dependency_distance"]["synth"]["total"] == 8
    depth = length16["depth_coverage"]["synth"]
    assert depth["n"] == 2
    assert depth["histogram"]["counts"] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 1]


def test_remention_gaps_of_rare_bigrams():
    # bigrams at: (11,12) 0,4; (12,5) 1,5; (5,6) 2,6,13; (2,3) 9,11 -> gaps 4; 4; 4,7; 2
    ids = np.array([11, 12, 5, 6, 11, 12, 5, 6, 1, 2, 3, 2, 3, 5, 6, 9])
    assert sorted(remention_gaps(ids).tolist()) == [2, 4, 4, 4, 7]
    common = np.array([1, 2] * 10)  # (1,2) ten times: too frequent to be a rare term
    assert remention_gaps(common).size == 0


def _stable_remention_gaps(ids: np.ndarray) -> np.ndarray:
    """The definition, written plainly: every bigram's positions in order, gaps between
    consecutive ones when it occurs 2-4 times, bigrams in key order."""
    keys = ngram_keys(ids, 2)
    positions: dict[int, list[int]] = {}
    for pos, key in enumerate(keys.tolist()):
        positions.setdefault(key, []).append(pos)
    return np.asarray([b - a for key in sorted(positions) if 2 <= len(positions[key]) <= 4
                       for a, b in pairwise(positions[key])], dtype=np.int64)


@pytest.mark.parametrize("vocab", [24, 32, 45])
def test_remention_gaps_in_stable_order(vocab):
    # the fast path sorts unstably and orders only the rare bigrams: same gaps, same order
    ids = np.random.default_rng(vocab).integers(0, vocab, 3000).astype(np.int64)
    expected = _stable_remention_gaps(ids)
    assert expected.size > 100 and np.array_equal(remention_gaps(ids), expected)


def test_distinct_ngrams_overall_and_per_source():
    rng = np.random.default_rng(7)
    segments = [SampledSegment(f"s{i}", source, "book", rng.integers(0, 6, size).astype(np.int64))
                for i, (source, size) in enumerate([("a", 50), ("b", 3), ("a", 40), ("c", 0)])]
    overall, per_source = distinct_ngram_ratios_by_source(segments)

    def ratio_of(segs, n):
        keys = np.concatenate([ngram_keys(s.ids, n) for s in segs])
        return round(np.unique(keys).size / keys.size, 6) if keys.size else 0.0

    assert overall == {str(n): ratio_of(segments, n) for n in (1, 2, 3, 4)}
    assert per_source == {src: ratio_of([s for s in segments if s.source == src], 4)
                          for src in ("a", "b", "c")}
    assert per_source["b"] == per_source["c"] == 0.0  # too short for a 4-gram
    assert distinct_count(np.array([5, 1, 5, 3, 1], dtype=np.uint64)) == 3
    assert distinct_count(np.zeros(0, dtype=np.uint64)) == 0


def test_remention_distance_per_source(stats):
    rem = stats["8/shard-00000.arrow"]["length"]["remention_distance"]
    assert rem["code"]["n"] == 1 and rem["code"]["max"] == 4
    assert rem["books"]["n"] == 0
    assert rem["code"]["gaps_per_1k_tokens"] == 125.0


def test_report_json_is_byte_identical_across_runs(tmp_path):
    out = build_output(tmp_path / "out")
    first = Path(build_report(str(out)))
    assert first == out / "report"
    files = sorted(p.relative_to(first) for p in first.rglob("*.json"))
    before = {p: (first / p).read_bytes() for p in files}
    second = Path(build_report(str(out)))
    after = {p: (second / p).read_bytes() for p in sorted(second.rglob("*.json"))}
    assert len(files) == 4 and before == {p.relative_to(second): b for p, b in after.items()}
