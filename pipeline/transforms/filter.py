"""The filter stage's Beam transform: runs `longweave.filters.document_filter` on every document."""

from __future__ import annotations

import apache_beam as beam

from longweave.filters.document_filter import DocumentFilter
from longweave.pipeline.transforms.stage import split_kept_and_dropped
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_filters import FilterConfig


class _FilterDoFn(beam.DoFn):
    """Holds only the config; the language model loads once per worker in `setup`."""

    def __init__(self, config: FilterConfig) -> None:
        self.config = config
        self._filter: DocumentFilter | None = None

    def setup(self) -> None:
        self._filter = DocumentFilter(self.config)

    def process(self, doc: Document):
        assert self._filter is not None
        try:
            judged = self._filter(doc)
        except Exception as error:  # noqa: BLE001 - one bad document never ends the job
            judged = Drop.quarantined(doc.id, doc.source, error, "filter")
        # a drop names the input its document came from, while the document is at hand
        yield judged.with_locator(doc.meta) if isinstance(judged, Drop) else judged


class Filter(beam.PTransform):
    """PCollection[Document] -> {"documents", "drops"}; every drop is `filtered:<rule>`."""

    def __init__(self, config: FilterConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, docs: beam.PCollection) -> dict:
        judged = docs | "ApplyFilters" >> beam.ParDo(_FilterDoFn(self.config)).with_output_types(
            Document | Drop)
        return split_kept_and_dropped(judged, "Filter")
