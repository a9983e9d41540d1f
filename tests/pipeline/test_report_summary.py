"""The run summary (totals, mixture, ledger waterfall, triangle) and the Beam variant."""

from __future__ import annotations

import json

import pytest
from report_fixture import build_output

from longweave.pipeline.report.build import build_report
from longweave.pipeline.report.summary import waterfall


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = build_output(tmp_path_factory.mktemp("out"))
    report_dir = build_report(str(out))
    return out, report_dir, json.loads((out / "report" / "summary.json").read_text())


def test_totals_add_up_over_shards(report):
    _, _, summary = report
    t = summary["totals"]
    assert (t["shards"], t["rows"], t["tokens"], t["content_tokens"], t["pad_tokens"]) == (
        3, 7, 72, 62, 10)
    assert t["row_fill"] == round(62 / 72, 6)
    assert t["by_bucket"]["8"]["row_fill"] == round(36 / 40, 6)
    assert t["by_bucket"]["16"]["source_tokens"] == {"agents": 10, "synth": 16}
    assert summary["shares"]["source"]["tokens"] == {"agents": 10, "books": 20, "code": 16,
                                                     "synth": 16}
    assert [s["report"] for s in summary["shards"]] == [
        "shards/8-shard-00000.json", "shards/8-shard-00001.json", "shards/16-shard-00000.json"]


def test_pooled_diversity_and_length(report):
    _, _, summary = report
    near = summary["diversity"]["near_duplicates"]
    # distinct segments 4 + 3 + 3; across: C and E; inside: G and G2
    assert near["across_shards"] == {"segments": 2, "rate": 0.2}
    assert near["inside_shard"] == {"segments": 2, "rate": 0.2}
    assert summary["length"]["long_documents"]["32K"]["tokens"] == 3
    assert summary["length"]["long_documents"]["32K"]["share"] == round(3 / 62, 6)
    assert summary["length"]["remention_distance"]["code"]["n"] == 2  # C and E, one gap each


def test_corpus_measures_count_each_document_once(report):
    _, _, summary = report
    assert summary["totals"]["documents"] == 8  # A B C E L G G2 F
    assert summary["quality"]["books"]["filter_score"]["n"] == 2
    # the index weighs A by its 2 copies: 10 packed tokens of "Austen"
    assert summary["diversity"]["entropy"]["tools"]["distinct"] == 2
    assert summary["length"]["dependency_distance"]["code"]["n"] == 2


def test_triangle_per_source(report):
    _, _, summary = report
    books = summary["triangle"]["books"]
    assert books["tokens"] == 20 and books["quality"] == 0.7
    assert books["length"] == round(3 / 20, 6)
    # no rare bigram repeats inside any book segment, and books carry no meta distances
    assert (books["dependency_tokens"], books["dependency_basis"]) == (None, None)
    code = summary["triangle"]["code"]
    assert code["dependency_basis"] == "meta" and code["dependency_tokens"] == 30.0
    assert summary["triangle"]["synth"]["diversity"] == 0.5  # G2 repeats G's 4-grams


def test_mixture_target_vs_actual(report):
    _, _, summary = report
    books = summary["mixture"]["sources"]["books"]
    assert books["target"] == 0.4 and books["actual"] == 0.254237
    assert books["difference"] == round(0.254237 - 0.4, 6)
    assert books["available_tokens"] == 40015 and books["packed_tokens"] == 20
    assert set(summary["mixture"]["by_bucket"]) == {"8", "16"}
    assert summary["mixture"]["by_bucket_share"]["16"] == {"agents": 0.384615, "synth": 0.615385}


def test_ledger_waterfall_steps(report):
    _, _, summary = report
    ledger = summary["ledger"]
    assert ledger["balanced"] is True
    labels = [(s["label"], s["delta"], s["level"]) for s in ledger["steps"]]
    assert labels[:3] == [("collect in", 12, 12),
                          ("collect quarantined:UnicodeDecodeError", -1, 11),
                          ("collect out", 0, 11)]
    assert ("synthesize created", 3, 10) in labels
    assert labels[-1] == ("pack out", 0, 8)


def test_waterfall_reports_unbalanced_and_gaps():
    result = waterfall([
        ("collect", {"stage": "collect", "in": 5, "out": 5, "dropped": {}, "balanced": True}),
        ("filter", {"stage": "filter", "in": 4, "out": 2, "dropped": {"filtered:x": 1},
                    "balanced": False})])
    assert result["balanced"] is False
    assert ("filter in (unaccounted)", -1) in [(s["label"], s["delta"]) for s in result["steps"]]
    assert waterfall([])["steps"] == []


def test_beam_variant_writes_the_same_json(report, tmp_path):
    out, report_dir, _ = report
    from longweave.pipeline.transforms.report import shard_reports_with_beam

    beam_dir = build_report(str(out), str(tmp_path / "beam"), shard_reports_with_beam(
        ["--runner=DirectRunner", "--direct_running_mode=in_memory"]))
    for name in ("summary.json", "shards/8-shard-00000.json", "shards/8-shard-00001.json",
                 "shards/16-shard-00000.json"):
        assert (tmp_path / "beam" / name).read_bytes() == (out / "report" / name).read_bytes()
    assert beam_dir == str(tmp_path / "beam")
