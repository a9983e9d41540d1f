"""The report's per-family block: counts, token distances and row shares from meta."""

from __future__ import annotations

import json

import polars as pl

from longweave.pipeline.report.synthetic import family_distances


def test_family_distances_reads_tokenize_measures() -> None:
    def meta(family: str, tokens: list[int], bucket: int = 1000) -> str:
        return json.dumps({"family": family, "length": {"bucket": bucket},
                           "tokenize": {"dependency_distances": {"tokens": tokens}}})
    frame = pl.DataFrame({
        "doc_id": ["a", "a", "b", "c", "d"],
        "kind": ["paraphrase_qa", "paraphrase_qa", "paraphrase_qa", "synthetic_task", "repo"],
        "meta": [meta("code_rename", [500]), meta("code_rename", [500]),
                 meta("code_rename", [100, 300]), json.dumps({"method": "niah_single"}),
                 meta("x", [1])],
    })
    out = family_distances(frame)
    assert set(out) == {"code_rename", "niah_single"}
    rename = out["code_rename"]
    assert rename["samples"] == 2 and rename["distances"] == 3
    assert rename["distance_tokens"]["p50"] == 300.0
    assert rename["row_share"]["p50"] == 0.3
    assert out["niah_single"] == {"samples": 1, "distances": 0, "distance_tokens": {},
                                  "row_share": {}}
