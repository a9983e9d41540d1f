"""The Filter transform: the same decisions as `DocumentFilter`, routed to documents/drops."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from conftest import shared_book_text

from longweave.pipeline.transforms.filter import Filter
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS
from longweave.schemas.document import Document
from longweave.schemas.recipe_filters import FilterConfig


def test_filter_transform_keeps_good_and_huge_and_drops_empty() -> None:
    text = shared_book_text()
    docs = [Document("good", "s", "book", text[50_000:80_000], [], {}),
            Document("empty", "s", "text", "", [], {}),
            Document("huge", "s", "text", text * 3, [], {})]
    assert len(docs[2].text) > 2_000_000
    with BeamTestPipeline(runner="DirectRunner") as pipeline:
        out = pipeline | beam.Create(docs, reshuffle=False) | Filter(FilterConfig())
        assert_that(out[DOCUMENTS] | "Ids" >> beam.Map(lambda d: d.id),
                    equal_to(["good", "huge"]), label="Kept")
        assert_that(out[DROPS] | "Reasons" >> beam.Map(lambda d: (d.doc_id, d.reason)),
                    equal_to([("empty", "filtered:empty")]), label="Dropped")


def test_a_document_the_filter_code_cannot_handle_is_quarantined(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from longweave.filters.document_filter import DocumentFilter

    real = DocumentFilter.__call__

    def explode_on_bad(self: DocumentFilter, doc: Document):  # noqa: ANN202
        if doc.id == "bad":
            raise RuntimeError("an input nobody foresaw")
        return real(self, doc)

    monkeypatch.setattr(DocumentFilter, "__call__", explode_on_bad)
    docs = [Document("bad", "s", "text", "x " * 100, [], {}),
            Document("fine", "s", "text", "A plain sentence of ordinary words. " * 10, [], {})]
    with BeamTestPipeline(runner="DirectRunner", options=None) as pipeline:
        out = pipeline | beam.Create(docs, reshuffle=False) | Filter(FilterConfig())
        assert_that(out[DOCUMENTS] | "Ids" >> beam.Map(lambda d: d.id), equal_to(["fine"]),
                    label="Kept")
        assert_that(out[DROPS] | "Reasons" >> beam.Map(lambda d: (d.doc_id, d.reason)),
                    equal_to([("bad", "quarantined:RuntimeError")]), label="Dropped")
