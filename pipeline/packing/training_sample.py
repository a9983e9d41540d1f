"""The texts a byte-level BPE is trained on, chosen the same way whatever wrote them."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from longweave.schemas import fs, layout
from longweave.schemas.seeded import seeded_unit

MAX_CHARS_PER_TRAINING_DOC = 200_000


def iter_document_batches(stage_dir: str, columns: list[str] | None = None,
                          batch_size: int = 64) -> Iterator[pa.RecordBatch]:
    """Driver-side read of a stage's documents as Arrow batches, files in sorted order.

    Callers that need only lengths or a few ids compute on the batch (pyarrow.compute)
    instead of turning every text into a Python string.
    """
    for path in fs.glob(fs.join(stage_dir, layout.DOCUMENTS_DIR, "*.parquet")):
        with fs.open_binary(path) as handle:
            yield from pq.ParquetFile(handle).iter_batches(batch_size=batch_size,
                                                           columns=columns)


class SampleSelection:
    """The lowest-ranked documents whose characters first reach `budget`, kept as a stream.

    A document is in the sample when the documents ranked before it hold fewer than
    `budget` characters (the same set as sorting them all and taking a prefix). Offers only
    ever add characters below a rank, so a document pushed out never comes back, and the
    list holds the sample plus at most one document.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.ranked: list[tuple[float, str, int]] = []
        self.total = 0

    def offer(self, rank: float, doc_id: str, chars: int) -> None:
        item = (rank, doc_id, chars)
        if self.ranked and self.total >= self.budget and item > self.ranked[-1]:
            return
        bisect.insort(self.ranked, item)
        self.total += chars
        while self.ranked and self.total - self.ranked[-1][2] >= self.budget:
            self.total -= self.ranked.pop()[2]

    def ids(self) -> list[str]:
        return [doc_id for _, doc_id, _ in self.ranked]


def training_sample(stage_dir: str, budget_chars: int, seed: int) -> list[str]:
    """Texts to train the BPE on: a stage's documents ranked by a seeded hash of their id.

    Ranking by hash (not file order) keeps the sample the same whatever the number of
    workers that wrote the documents, so the trained tokenizer is too. The first pass keeps
    only the current sample (a bounded sorted list), not a rank for every document, and
    reads text lengths in Arrow; the second turns only the chosen texts into strings.
    """
    chosen = SampleSelection(budget_chars)
    for batch in iter_document_batches(stage_dir, columns=["id", "text"]):
        lengths = pc.min_element_wise(pc.utf8_length(batch.column("text")),
                                      MAX_CHARS_PER_TRAINING_DOC)
        for doc_id, chars in zip(batch.column("id").to_pylist(), lengths.to_pylist(),
                                 strict=True):
            chosen.offer(seeded_unit(seed, "tokenizer:" + doc_id), doc_id, chars)
    wanted = pa.array(sorted(chosen.ids()), pa.string())
    texts = {}
    for batch in iter_document_batches(stage_dir, columns=["id", "text"]):
        picked = batch.filter(pc.is_in(batch.column("id"), value_set=wanted))
        for row in picked.to_pylist():
            texts[row["id"]] = row["text"][:MAX_CHARS_PER_TRAINING_DOC]
    return [texts[doc_id] for doc_id in sorted(texts)]
