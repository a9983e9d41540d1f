"""From a Document to bucket-ready token segments: encode, mask, split at natural boundaries.

A document longer than the largest bucket is split where its structure allows (files of a
repository, chapters of a book, turns of a trajectory); only a single indivisible unit that
is itself longer than the bucket is cut mid-unit, and the split kind is recorded.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from longweave.pipeline.packing.tokenizer import SpecialIds
from longweave.schemas.document import Document, dump_meta
from longweave.schemas.meta import (
    COMPONENTS,
    DEPENDENCY_EDGES,
    DEPENDENCY_LINKS,
    TOKENIZE,
    DependencyDistances,
    with_stage_keys,
)
from longweave.schemas.seeded import seeded_unit
from longweave.schemas.spans import CHAPTER, FILE, LOSS_OFF, SECTION, TURN

BOUNDARY_PREFIXES = (FILE, CHAPTER, TURN, SECTION)  # units a split may fall between


@dataclass
class Encoded:
    """A document's token ids with each token's starting character offset."""

    doc: Document
    ids: np.ndarray  # int32
    starts: np.ndarray  # int64, char offset where each token starts


@dataclass
class Segment:
    """A piece of one document, sized for one bucket."""

    segment_id: str
    doc_id: str
    source: str
    kind: str
    bucket: int
    input_ids: np.ndarray
    loss_mask: np.ndarray | None
    chars: int
    piece: int
    pieces: int
    split: str
    meta: str = field(default="{}", repr=False)
    # the piece's tokens in its document's token coordinates, [token_start, token_end),
    # BOS/EOS not counted: the report tells from them which dependency links lie in a row
    token_start: int | None = None
    token_end: int | None = None

    @property
    def tokens(self) -> int:
        return int(len(self.input_ids))

    def to_row(self) -> dict:
        return {
            "segment_id": self.segment_id, "doc_id": self.doc_id, "source": self.source,
            "kind": self.kind, "bucket": self.bucket,
            "input_ids": self.input_ids.astype(np.int32).tolist(),
            "loss_mask": [] if self.loss_mask is None else self.loss_mask.astype(np.int8).tolist(),
            "tokens": self.tokens, "chars": self.chars, "piece": self.piece,
            "pieces": self.pieces, "split": self.split, "meta": self.meta,
            "token_start": self.token_start, "token_end": self.token_end,
        }

    @classmethod
    def from_row(cls, row: dict) -> Segment:
        mask = row.get("loss_mask")  # a list from a row, or a numpy view (pack's batches)
        mask = [] if mask is None else mask
        return cls(
            segment_id=row["segment_id"], doc_id=row["doc_id"], source=row["source"],
            kind=row["kind"], bucket=int(row["bucket"]),
            input_ids=np.asarray(row["input_ids"], dtype=np.int32),
            loss_mask=np.asarray(mask, dtype=np.int8) if len(mask) else None,
            chars=int(row["chars"]), piece=int(row["piece"]), pieces=int(row["pieces"]),
            split=row["split"], meta=row.get("meta") or "{}",
            token_start=_optional_int(row.get("token_start")),
            token_end=_optional_int(row.get("token_end")),
        )


def _optional_int(value: int | None) -> int | None:
    """A range column of a segment row; None in rows written before the column existed."""
    return None if value is None else int(value)


def encode_batch(tokenizer, docs: list[Document]) -> list[Encoded]:
    """Tokenize many documents in one `encode_batch` call (the tokenizer's fast path)."""
    encodings = tokenizer.encode_batch([d.text for d in docs], add_special_tokens=False)
    out = []
    for doc, enc in zip(docs, encodings, strict=True):
        ids = np.asarray(enc.ids, dtype=np.int32)
        starts = np.asarray([o[0] for o in enc.offsets], dtype=np.int64) if len(ids) else (
            np.zeros(0, dtype=np.int64))
        out.append(Encoded(doc, ids, starts))
    return out


def loss_mask_for(encoded: Encoded) -> np.ndarray | None:
    """1 for tokens in the loss, 0 for tokens starting inside a `loss:off` span."""
    spans = encoded.doc.spans_with_prefix(LOSS_OFF)
    if not spans:
        return None
    mask = np.ones(len(encoded.ids), dtype=np.int8)
    for span in spans:
        lo = np.searchsorted(encoded.starts, span.start, side="left")
        hi = np.searchsorted(encoded.starts, span.end, side="left")
        mask[lo:hi] = 0
    return mask


def boundary_tokens(encoded: Encoded) -> list[int]:
    """Token indices where a natural unit (file, chapter, turn) starts, plus both ends."""
    cuts = {0, len(encoded.ids)}
    for span in encoded.doc.spans:
        if span.label.startswith(BOUNDARY_PREFIXES):
            cuts.add(int(np.searchsorted(encoded.starts, span.start, side="left")))
    return sorted(cuts)


def strong_boundary_tokens(encoded: Encoded) -> list[int]:
    """Token indices where a repository's weakly connected component starts.

    Splitting there cuts no import edge at all, so it is preferred to an ordinary file
    boundary whenever it leaves a piece at least half full.
    """
    components = encoded.doc.meta.get(COMPONENTS) or []
    starts = [int(c["start"]) for c in components if isinstance(c, dict) and "start" in c]
    return sorted({int(i) for i in np.searchsorted(encoded.starts, starts, side="left")})


def plan_pieces(n_tokens: int, boundaries: list[int], limit: int,
                strong: list[int] | None = None) -> list[tuple[int, int, str]]:
    """Split `[0, n_tokens)` into pieces of at most `limit` tokens.

    Each piece ends at the farthest strong boundary in the second half of its reach, else at
    the farthest natural boundary within reach; only when no boundary is in reach (one unit
    longer than `limit`) is the piece cut at exactly `limit` tokens.
    Returns `(start, end, how)` with how `none`, `boundary` or `cut`.
    A `limit` under 1 can hold no token: an error, never a loop that does not advance.
    """
    if limit < 1:
        raise ValueError(f"a piece limit of {limit} tokens holds no token: every bucket "
                         f"must exceed the special tokens it holds")
    if n_tokens <= limit:
        return [(0, n_tokens, "none")]
    strong = strong or []
    pieces = []
    start = 0
    while start < n_tokens:
        reach = start + limit
        if reach >= n_tokens:
            pieces.append((start, n_tokens, "boundary"))
            break
        end = _farthest(strong, start + max(1, limit // 2), reach)
        if end is None:
            end = _farthest(boundaries, start + 1, reach)
        if end is None:
            pieces.append((start, reach, "cut"))
            start = reach
        else:
            pieces.append((start, end, "boundary"))
            start = end
    return pieces


def _farthest(points: list[int], low: int, high: int) -> int | None:
    """The largest point in [low, high], if any (points sorted)."""
    index = bisect.bisect_right(points, high) - 1
    return points[index] if index >= 0 and points[index] >= low else None


def dependency_links(doc: Document) -> list[tuple[int, int]]:
    """`(earlier char, later char)` pairs where a later part depends on an earlier one.

    Readers record them as `dependency_links` (a trajectory's tool result and the last turn
    that refers back to it; a synthetic sample's evidence and its question) or, for
    repositories, as import edges `[importer, imported, chars]` over files in render order,
    resolved here to the two files' starts.
    """
    links = doc.meta.get(DEPENDENCY_LINKS)
    if links:
        return [(int(a), int(b)) for a, b in links]
    edges = doc.meta.get(DEPENDENCY_EDGES)
    if not edges:
        return []
    file_starts = [s.start for s in doc.spans_with_prefix(FILE)]
    return [(file_starts[b], file_starts[a]) for a, b, _ in edges
            if a < len(file_starts) and b < len(file_starts)]


def distances_in_tokens(encoded: Encoded) -> DependencyDistances | None:
    """A document's dependency distances in characters and, now that tokens exist, tokens.

    Tokens are the unit the report charts long-range dependency in; every kind's links are
    measured here, so the report reads one key (`meta["tokenize"]["dependency_distances"]`).
    """
    links = dependency_links(encoded.doc)
    if not links:
        return None
    earlier = np.searchsorted(encoded.starts, [a for a, _ in links], side="left")
    later = np.searchsorted(encoded.starts, [b for _, b in links], side="left")
    return {"chars": [b - a for a, b in links],
            "tokens": (later - earlier).astype(int).tolist(),
            "token_pairs": np.stack([earlier, later], axis=1).astype(int).tolist()}


def segment_meta(encoded: Encoded) -> str:
    """The meta JSON every piece of the document carries: the document's own meta plus
    what tokenize measured, under `meta["tokenize"]`."""
    meta = encoded.doc.meta
    distances = distances_in_tokens(encoded)
    if distances is not None:
        meta = with_stage_keys(meta, TOKENIZE, dependency_distances=distances)
    return dump_meta(meta)


def bucket_for(length: int, buckets: list[int], policy: str = "smallest", seed: int = 0,
               key: str = "") -> int:
    """The bucket a segment of `length` tokens goes to (buckets are sorted).

    `smallest`: the smallest bucket that holds it. `spread`: one of the buckets that hold
    it, drawn by a seeded hash of `key` with weight proportional to the bucket length, so
    long rows also receive short documents to fill the room long ones leave (a 40K-token
    document alone in a 64K row would waste 24K tokens).
    """
    index = bisect.bisect_left(buckets, length)
    if index == len(buckets):
        raise ValueError(f"{length} tokens exceed the largest bucket {buckets[-1]}")
    if policy == "smallest" or index == len(buckets) - 1:
        return buckets[index]
    candidates = buckets[index:]
    draw = seeded_unit(seed, "bucket:" + key) * sum(candidates)
    for bucket in candidates:
        draw -= bucket
        if draw < 0:
            return bucket
    return candidates[-1]


def segment_document(encoded: Encoded, buckets: list[int], specials: SpecialIds,
                     policy: str = "smallest", seed: int = 0) -> list[Segment]:
    """Split an encoded document to fit the buckets and add BOS/EOS per the recipe.

    BOS opens every piece and EOS closes the last one, so the split points stay visible to
    the model only as segment boundaries, never as a false end of document.
    """
    doc = encoded.doc
    extra = (specials.bos is not None) + (specials.eos is not None)
    limit = buckets[-1] - extra
    mask = loss_mask_for(encoded)
    plan = plan_pieces(len(encoded.ids), boundary_tokens(encoded), limit,
                       strong_boundary_tokens(encoded))
    meta = segment_meta(encoded)
    segments = []
    for number, (lo, hi, how) in enumerate(plan):
        ids = encoded.ids[lo:hi]
        piece_mask = mask[lo:hi] if mask is not None else None
        if specials.bos is not None:
            ids = np.concatenate([[specials.bos], ids]).astype(np.int32)
            if piece_mask is not None:
                piece_mask = np.concatenate([[1], piece_mask]).astype(np.int8)
        if specials.eos is not None and number == len(plan) - 1:
            ids = np.concatenate([ids, [specials.eos]]).astype(np.int32)
            if piece_mask is not None:
                piece_mask = np.concatenate([piece_mask, [1]]).astype(np.int8)
        char_lo = int(encoded.starts[lo]) if lo < len(encoded.starts) else len(doc.text)
        char_hi = int(encoded.starts[hi]) if hi < len(encoded.starts) else len(doc.text)
        split = "none" if how == "none" else ("cut" if how == "cut" else "span")
        segment_id = doc.id if len(plan) == 1 else f"{doc.id}#{number}"
        segments.append(Segment(
            segment_id=segment_id, doc_id=doc.id, source=doc.source, kind=doc.kind,
            bucket=bucket_for(len(ids), buckets, policy, seed, segment_id),
            input_ids=ids, loss_mask=piece_mask,
            chars=char_hi - char_lo, piece=number, pieces=len(plan), split=split, meta=meta,
            token_start=int(lo), token_end=int(hi),
        ))
    return segments
