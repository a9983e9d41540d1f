"""The Tokenize transform: batched encoding on workers, documents split to fit the buckets."""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam

from longweave.pipeline.packing.segments import encode_batch, segment_document
from longweave.pipeline.packing.tokenizer import SpecialIds, load_tokenizer, special_ids
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS, quarantine_error
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_pack import TokenizerConfig


def tokenize_documents(tokenizer, docs: list[Document], buckets: list[int],
                       specials: SpecialIds, policy: str = "smallest", seed: int = 0
                       ) -> Iterator[dict | Drop]:
    """Segment rows for a batch of documents; a document with no tokens is a drop.

    If the batch fails, each document is tried alone so that only the one that cannot be
    tokenized is quarantined.
    """
    try:
        rows = list(_tokenize_batch(tokenizer, docs, buckets, specials, policy, seed))
    except Exception as error:  # noqa: BLE001 - isolate the bad document below
        if len(docs) == 1:
            yield quarantine_error(docs[0], error, "tokenize")
            return
        for doc in docs:
            yield from tokenize_documents(tokenizer, [doc], buckets, specials, policy, seed)
        return
    yield from rows


def _tokenize_batch(tokenizer, docs: list[Document], buckets: list[int],
                    specials: SpecialIds, policy: str, seed: int) -> Iterator[dict | Drop]:
    for encoded in encode_batch(tokenizer, docs):
        if len(encoded.ids) == 0:
            yield Drop(encoded.doc.id, encoded.doc.source, "filtered:no_tokens",
                       "the document encodes to zero tokens")
            continue
        for segment in segment_document(encoded, buckets, specials, policy, seed):
            yield segment.to_row()


class _TokenizeBatch(beam.DoFn):
    """Holds the tokenizer per worker (loaded once in `setup`); the logic is above."""

    def __init__(self, tokenizer_path: str, config: TokenizerConfig, buckets: list[int],
                 pad_id: int | None, policy: str, seed: int) -> None:
        self.tokenizer_path = tokenizer_path
        self.config = config
        self.buckets = buckets
        self.pad_id = pad_id
        self.policy = policy
        self.seed = seed

    def setup(self) -> None:
        self.tokenizer = load_tokenizer(self.tokenizer_path)
        self.specials = special_ids(self.tokenizer, self.config, self.pad_id)

    def process(self, batch: list[Document]) -> Iterator:
        for item in tokenize_documents(self.tokenizer, batch, self.buckets, self.specials,
                                       self.policy, self.seed):
            tag = DROPS if isinstance(item, Drop) else DOCUMENTS
            yield beam.pvalue.TaggedOutput(tag, item)


class Tokenize(beam.PTransform):
    """Documents in; segment rows (`TOKENIZED_SEGMENT_SCHEMA`) and drops out."""

    def __init__(self, tokenizer_path: str, config: TokenizerConfig, buckets: list[int],
                 pad_id: int | None = None, policy: str = "smallest", seed: int = 0) -> None:
        super().__init__()
        self.fn = _TokenizeBatch(tokenizer_path, config, buckets, pad_id, policy, seed)
        self.batch_size = config.batch_size
        self.batch_chars = config.batch_chars

    def expand(self, docs: beam.PCollection) -> dict:
        # Batches are bounded in characters (so a few huge documents do not share one
        # encode_batch call) and, through a floor on each document's size, in documents.
        # The bound is also the floor: encode_batch spreads a batch's documents over the
        # cores, and BatchElements' adaptive sizing would start at one document a call.
        per_doc = max(1, self.batch_chars // self.batch_size)
        out = (docs
               | "Batch" >> beam.BatchElements(
                   min_batch_size=self.batch_chars, max_batch_size=self.batch_chars,
                   element_size_fn=lambda doc: max(per_doc, len(doc.text)))
               | "Encode" >> beam.ParDo(self.fn).with_outputs(DOCUMENTS, DROPS))
        return {DOCUMENTS: out[DOCUMENTS], DROPS: out[DROPS]}
