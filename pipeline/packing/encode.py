"""Documents to segment rows: batched encoding, then each document split to fit the buckets."""

from __future__ import annotations

from collections.abc import Iterator

from tokenizers import Tokenizer

from longweave.pipeline.packing.segments import encode_batch, segment_document
from longweave.pipeline.packing.tokenizer import SpecialIds
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop


def tokenize_documents(tokenizer: Tokenizer, docs: list[Document], buckets: list[int],
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
            yield Drop.quarantined(docs[0].id, docs[0].source, error, "tokenize")
            return
        for doc in docs:
            yield from tokenize_documents(tokenizer, [doc], buckets, specials, policy, seed)
        return
    yield from rows


def _tokenize_batch(tokenizer: Tokenizer, docs: list[Document], buckets: list[int],
                    specials: SpecialIds, policy: str, seed: int) -> Iterator[dict | Drop]:
    for encoded in encode_batch(tokenizer, docs):
        if len(encoded.ids) == 0:
            yield Drop(encoded.doc.id, encoded.doc.source, "filtered:no_tokens",
                       "the document encodes to zero tokens").with_locator(encoded.doc.meta)
            continue
        for segment in segment_document(encoded, buckets, specials, policy, seed):
            yield segment.to_row()


def is_later_piece(row: dict) -> bool:
    """A split document's second and further pieces: records the split created."""
    return row["piece"] > 0


def is_split_document(row: dict) -> bool:
    """The first piece of a document that was split (counted once per document)."""
    return row["piece"] == 0 and row["pieces"] > 1
