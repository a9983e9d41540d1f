"""The Synthesize transform on the DirectRunner matches the in-memory flow."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that
from synth_fixture import stdlib_documents

from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS, as_list
from longweave.pipeline.transforms.synthesize import Synthesize
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.synth.build import synthesize_all

CONFIG = SynthesizeConfig.model_validate({
    "enabled": True, "megadocs": {"enabled": True, "questions": 2},
    "paraphrase": {"enabled": True, "samples_per_bucket": 2},
    "tasks": {"enabled": True, "samples_per_bucket": 1,
              "families": ["niah_multikey", "variable_tracking"]}})
BUCKETS = [2048, 8192]


def test_synthesize_transform_adds_samples_and_keeps_inputs() -> None:
    docs = stdlib_documents(("json/__init__.py", "json/decoder.py", "json/encoder.py",
                             "http/client.py", "http/server.py", "textwrap.py"))
    expected = synthesize_all(docs, CONFIG, 3, None, BUCKETS)
    assert len(expected) >= 6
    want = sorted([d.id for d in docs] + [d.id for d in expected])
    rows = {d.id: d.to_row() for d in expected}

    def check_documents(found: list) -> None:
        assert sorted(d.id for d in found) == want
        for doc in found:
            if doc.id in rows:
                assert doc.to_row() == rows[doc.id]  # same samples as the in-memory flow

    def check_no_drops(found: list) -> None:
        assert found == []

    with beam.Pipeline(runner="DirectRunner") as pipeline:
        out = (pipeline | beam.Create(docs, reshuffle=False)
               | Synthesize(CONFIG, 3, None, BUCKETS))
        # the inputs and the samples come as two PCollections, written side by side
        documents = as_list(out[DOCUMENTS]) | "Together" >> beam.Flatten()
        assert_that(documents, check_documents, label="CheckDocuments")
        assert_that(out[DROPS], check_no_drops, label="CheckDrops")


def test_disabled_synthesize_is_a_pass_through() -> None:
    docs = stdlib_documents(("csv.py", "string.py"))

    def check(found: list) -> None:
        assert sorted(d.id for d in found) == sorted(d.id for d in docs)

    with beam.Pipeline(runner="DirectRunner") as pipeline:
        out = (pipeline | beam.Create(docs, reshuffle=False)
               | Synthesize(SynthesizeConfig(), 3, None, BUCKETS))
        assert_that(as_list(out[DOCUMENTS]) | "Together" >> beam.Flatten(), check)
