"""The tokenize stage's Beam shell: batched encoding on workers (the logic is in
`longweave.pipeline.packing.encode`), segment rows written for the pack stage."""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam

from longweave.pipeline.packing.encode import (
    is_later_piece,
    is_split_document,
    tokenize_documents,
)
from longweave.pipeline.packing.tokenizer import special_ids
from longweave.pipeline.transforms.docio import ReadDocuments, write_rows
from longweave.pipeline.transforms.ledger_io import count_as
from longweave.pipeline.transforms.progress import OUTPUT, document_chars, track
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS, write_ledger_inputs
from longweave.schemas import fs, layout
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.packed import TOKENIZED_SEGMENT_SCHEMA
from longweave.schemas.recipe import Recipe
from longweave.schemas.recipe_pack import TokenizerConfig
from longweave.schemas.tokenizer_file import load_tokenizer


class _TokenizeBatch(beam.DoFn):
    """Holds the tokenizer per worker (loaded once in `setup`); the logic is in `encode`."""

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


def tokenize_stage(pipeline: beam.Pipeline, upstream_dir: str, tokenizer_file: str,
                   recipe: Recipe, tmp: str) -> None:
    """The tokenize stage's job: documents in, segment rows and the ledger's counts out.

    A split document's further pieces are records the split created, so the ledger reads:
    documents in + extra pieces = segments out + dropped.
    """
    docs = track(pipeline | "ReadDocuments" >> ReadDocuments(upstream_dir), "Progress",
                 "chars", document_chars)
    result = docs | "Tokenize" >> Tokenize(
        tokenizer_file, recipe.tokenizer, recipe.buckets, recipe.output.pad_token_id,
        recipe.bucket_policy, recipe.seed)
    segments = track(result[DOCUMENTS], "ProgressOut", "", role=OUTPUT)
    written = write_rows(segments, "WriteSegments", fs.join(tmp, layout.SEGMENTS_DIR),
                         TOKENIZED_SEGMENT_SCHEMA)
    pieces = segments | "LaterPieces" >> beam.Filter(is_later_piece)
    split = segments | "SplitDocs" >> beam.Filter(is_split_document)
    write_ledger_inputs(tmp, result[DROPS], [
        count_as(docs, "in", "CountIn"), count_as(segments, "out", "CountOut"),
        count_as(pieces, "created", "CountPieces"),
        count_as(split, "extra:split_documents", "CountSplit")], [written])
