"""The `book` kind inside the collect stage's Beam transform (DirectRunner, in memory)."""

from __future__ import annotations

import gzip
from pathlib import Path

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from longweave.pipeline.transforms.collect import QUARANTINE, Collect
from longweave.pipeline.transforms.stage import DOCUMENTS
from longweave.schemas.recipe import SourceSpec

BOOK = ("Title: A Short One\nAuthor: Some Body\n\n*** START OF THE PROJECT GUTENBERG EBOOK "
        "A SHORT ONE ***\n\nCHAPTER I\n\nThe whole of the first chapter.\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK A SHORT ONE ***\nLicense.\n")


def test_collect_reads_books_and_quarantines_the_truncated_file(tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_bytes(BOOK.encode("cp1252"))
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(BOOK.encode() * 100)[:-20])
    spec = SourceSpec(name="books", kind="book", paths=[str(tmp_path)], options={"reflow": True})
    with BeamTestPipeline() as pipeline:
        outputs = pipeline | Collect([spec])
        titles = outputs[DOCUMENTS] | beam.Map(lambda d: (d.kind, d.meta["title"], d.text))
        errors = outputs[QUARANTINE] | beam.Map(
            lambda r: (Path(r.locator).name, r.error.split(":", 1)[0]))
        assert_that(titles, equal_to([("book", "A Short One",
                                       "CHAPTER I\n\nThe whole of the first chapter.")]),
                    label="documents")
        assert_that(errors, equal_to([("cut.txt.gz", "TruncatedFile")]), label="quarantine")
