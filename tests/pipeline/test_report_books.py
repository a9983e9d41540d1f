"""The report on real Gutenberg novels packed into 16K rows: the measures say true things."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_fixture import BOOKS_DIR, build_book_output

from longweave.pipeline.report.build import build_report

# three whole novels tokenized, packed and reported: an integration test, kept out of -m "not slow"
pytestmark = [pytest.mark.skipif(not BOOKS_DIR.is_dir(),
                                 reason=f"shared book samples not found at {BOOKS_DIR}"),
              pytest.mark.slow]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = build_book_output(tmp_path_factory.mktemp("books"))
    report_dir = Path(build_report(str(out)))
    shards = [json.loads(p.read_text()) for p in sorted((report_dir / "shards").glob("*"))]
    return json.loads((report_dir / "summary.json").read_text()), shards


def test_novels_are_long_and_refer_back_far(report):
    summary, _ = report
    assert summary["totals"]["documents"] == 3
    assert summary["length"]["long_documents"]["32K"]["share"] == 1.0
    remention = summary["length"]["remention_distance"]["books"]
    # names and places recur thousands of tokens apart in a novel
    assert remention["n"] > 1000
    assert remention["share_at_least"]["4K"] > 0.1


def test_text_diversity_is_in_the_range_of_prose(report):
    summary, _ = report
    ngrams = summary["diversity"]["distinct_ngrams"]
    assert ngrams["1"] < ngrams["2"] < ngrams["3"] < ngrams["4"] < 1.0
    assert 2.0 < summary["diversity"]["compression"]["ratio"] < 5.0


def test_gutenberg_license_tails_are_near_duplicates_across_shards(report):
    _, shards = report
    flagged = sum(s["diversity"]["near_duplicates"]["across_shards"]["segments"] for s in shards)
    inside = sum(s["diversity"]["near_duplicates"]["inside_shard"]["segments"] for s in shards)
    # the last pieces of two books are mostly the same Project Gutenberg license text
    assert flagged == 2 and inside == 0
