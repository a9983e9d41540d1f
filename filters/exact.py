"""Exact dedup (whole texts and repeated repository files) and the keep policy shared by
exact and near-duplicate clusters."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import xxhash

from longweave.filters.chunks import remove_chunks
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.meta import DEDUPE, filter_score, with_stage_keys


def normalised_text_hash(text: str) -> str:
    """Hash (128-bit xxh3, hex) of the text after NFKC, case folding and whitespace
    collapsing (runs of `str.isspace` characters become one space, none at either end): of
    its ASCII bytes when the result is ASCII, else of its UTF-32-LE code points (one
    normalised text has one digest either way).

    Folding and collapsing run over code points in numpy (a non-ASCII character folds by a
    map of the few distinct ones in the text; one that folds to several characters sends
    the text through `str.casefold`): several times faster than `str.casefold` and
    `" ".join(s.split())` on book-sized texts.
    """
    normal = unicodedata.normalize("NFKC", text)
    if normal.isascii():
        codes = _ASCII_FOLD[np.frombuffer(normal.encode("ascii"), dtype=np.uint8)]
        space = _ASCII_SPACE[codes]
    else:
        codes = _folded_code_points(normal)
        space = _SPACE_TABLE[codes]
    keep = ~space
    keep[1:] |= ~space[:-1]  # the first of a run of spaces stays (not at the start)
    collapsed = codes[keep]
    collapsed[space[keep]] = 32
    if len(collapsed) and collapsed[-1] == 32:
        collapsed = collapsed[:-1]
    if collapsed.dtype != np.uint8 and (not len(collapsed) or collapsed.max() < 128):
        collapsed = collapsed.astype(np.uint8)  # ASCII once folded and collapsed
    return xxhash.xxh3_128_hexdigest(collapsed.tobytes())


def _folded_code_points(text: str) -> np.ndarray:
    """`text.casefold()` as UTF-32 code points, folding by lookup where it can."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    wide = codes >= 128
    distinct = np.unique(codes[wide])
    folded = [chr(c).casefold() for c in distinct.tolist()]
    if any(len(f) != 1 for f in folded):  # ß -> ss, ﬁ -> fi: the slow, general way
        return np.frombuffer(text.casefold().encode("utf-32-le", "surrogatepass"),
                             dtype=np.uint32)
    out = _ASCII_FOLD_U32[np.minimum(codes, 127)]
    out[wide] = np.array([ord(f) for f in folded], dtype=np.uint32)[
        np.searchsorted(distinct, codes[wide])]
    return out


# Every code point `str.isspace` (and so `str.split` and the regex `\\s`) counts as
# whitespace; written out because finding them takes a second at import, in every worker.
_SPACES = np.array([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0,
                    0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000],
                   dtype=np.uint32)
_ASCII_FOLD = np.frombuffer(bytes(range(128)).decode("ascii").casefold().encode("ascii"),
                            dtype=np.uint8)
_ASCII_SPACE = np.isin(np.arange(128), _SPACES)
_ASCII_FOLD_U32 = _ASCII_FOLD.astype(np.uint32)
_SPACE_TABLE = np.zeros(0x110000, dtype=bool)  # 1.1 MB: a lookup beats `isin`'s sort
_SPACE_TABLE[_SPACES] = True


@dataclass(frozen=True, order=True)
class Candidate:
    """What the keep policy needs of a document, small enough to shuffle in place of it."""

    id: str
    source: str
    length: int
    score: float

    @classmethod
    def of(cls, doc: Document) -> Candidate:
        """The filter's chunk score is the quality tie-break (0 when never judged)."""
        return cls(doc.id, doc.source, len(doc.text), filter_score(doc.meta) or 0.0)

    def keep_order(self) -> tuple[int, float, str]:
        """Longest first, then best quality score, then smallest id: deterministic."""
        return (-self.length, -self.score, self.id)


def resolve_cluster(members: Iterable[Candidate], cluster: str
                    ) -> tuple[Candidate, list[Drop], dict[str, Any]]:
    """Keeper, one `duplicate` drop per other member, and the cluster's membership record."""
    ordered = sorted(members, key=Candidate.keep_order)
    keeper = ordered[0]
    drops = [Drop(m.id, m.source, "duplicate", f"duplicate-of:{keeper.id} cluster:{cluster}")
             for m in ordered[1:]]
    record = {"cluster": cluster, "keep": keeper.id,
              "members": sorted(m.id for m in ordered), "size": len(ordered)}
    return keeper, drops, record


def exact_key(doc: Document) -> tuple[str, Candidate]:
    """`(normalised text hash, candidate)`: all the exact step shuffles of a document."""
    return normalised_text_hash(doc.text), Candidate.of(doc)


def resolve_exact_candidates(key: str, members: Iterable[Candidate]) -> list[Drop | dict]:
    """The drops and cluster record of one group of exact duplicates (none for a group of
    one): decided on candidates, so no text has to travel with the group."""
    members = list(members)
    if len(members) == 1:
        return []
    _, drops, record = resolve_cluster(members, f"exact-{key[:16]}")
    return [*drops, {**record, "method": "exact"}]


def resolve_exact_group(key: str, docs: Iterable[Document]) -> list[Document | Drop | dict]:
    """Keep one document of a group of exact duplicates; a cluster record if there were more."""
    docs = list(docs)
    decided = resolve_exact_candidates(key, (Candidate.of(d) for d in docs))
    gone = {d.doc_id for d in decided if isinstance(d, Drop)}
    return [*(d for d in docs if d.id not in gone), *decided]


def file_fingerprints(doc: Document) -> list[tuple[str, str]]:
    """`(normalised content hash, span label)` of every `file:` span (header line skipped)."""
    out = []
    for span in doc.spans_with_prefix("file:"):
        block = doc.text[span.start:span.end]
        body = block.split("\n", 1)[1] if block.startswith("<file_sep>") and "\n" in block \
            else block
        if body.strip():
            out.append((normalised_text_hash(body), span.label))
    return out


def file_copies(doc: Document) -> list[tuple[str, tuple[str, str]]]:
    """`(content hash, (doc id, span label))` per file of a repo document (others: none)."""
    if doc.kind != "repo":
        return []
    return [(digest, (doc.id, label)) for digest, label in file_fingerprints(doc)]


def copies_to_cut(copies: Iterable[tuple[str, str]]) -> list[tuple[str, tuple[str, str]]]:
    """`(doc id, (span label, keeper doc id))` for every copy of one file content but the
    first by (doc id, label); a document never cuts a file from itself."""
    ordered = sorted(set(copies))
    keeper = ordered[0][0]
    return [(doc_id, (label, keeper)) for doc_id, label in ordered[1:] if doc_id != keeper]


def cut_files(docs: Iterable[Document], cuts: Iterable[tuple[str, str]]
              ) -> list[Document | Drop]:
    """The documents with the `(label, keeper)` cuts applied (see `drop_files`)."""
    docs, cuts = list(docs), list(cuts)
    if not cuts:
        return docs
    labels = [label for label, _ in cuts]
    keepers = [keeper for _, keeper in cuts]
    return [drop_files(doc, labels, keepers) for doc in docs]


def drop_files(doc: Document, labels: Iterable[str], kept_in: Iterable[str]) -> Document | Drop:
    """`doc` without the `file:` spans in `labels` (copies kept elsewhere), or a drop if
    nothing of it is left."""
    gone = set(labels)
    removed = [s for s in doc.spans_with_prefix("file:") if s.label in gone]
    left = [s for s in doc.spans_with_prefix("file:") if s.label not in gone]
    if not left:
        return Drop(doc.id, doc.source, "duplicate",
                    f"duplicate-of:{min(kept_in)} cluster:files (every file is a copy)")
    trimmed = remove_chunks(doc, removed)
    return replace(trimmed, meta=with_stage_keys(
        trimmed.meta, DEDUPE, duplicate_files_removed=sorted(gone)[:50],
        duplicate_files_count=len(removed)))
