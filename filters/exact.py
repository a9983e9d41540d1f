"""Exact dedup (whole texts and repeated repository files) and the keep policy shared by
exact and near-duplicate clusters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import xxhash

from longweave.filters.chunks import remove_chunks
from longweave.filters.utf8text import Utf8Text, normal_form
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop, locator_of
from longweave.schemas.meta import DEDUPE, filter_score, with_stage_keys


def normalised_text_hash(text: str) -> str:
    """Hash (128-bit xxh3, hex) of the text's UTF-8 bytes after NFKC, case folding and
    whitespace collapsing (runs of `str.isspace` characters become one space, none at
    either end)."""
    return normal_form_hash(normal_form(text))


def normal_form_hash(folded: Utf8Text) -> str:
    """`normalised_text_hash` of a text already in its normal form: the collapse runs over
    its UTF-8 bytes in numpy, faster than `" ".join(s.split())` and the same bytes."""
    if any(chr(c).isspace() for c in folded.distinct.tolist()):
        # a non-ASCII space (after NFKC: U+0085, U+1680, U+2028, U+2029) is several bytes
        flags = folded.space_flags().view(bool)  # padded with a non-space at either end
        space = flags[1:-1]
        codes = np.where(space, np.uint8(32), folded.codes)
    else:  # every space is one ASCII byte: one translate makes them all " "
        codes = np.frombuffer(folded.data.translate(_SPACE_TO_BLANK), dtype=np.uint8)
        space = codes == 32
    keep = np.ones(len(codes), dtype=bool)
    keep[1:] = ~(space[1:] & space[:-1])  # the first byte of a run of spaces stays
    collapsed = codes[keep]
    start = 1 if len(collapsed) and collapsed[0] == 32 else 0
    end = len(collapsed) - (1 if len(collapsed) > start and collapsed[-1] == 32 else 0)
    return xxhash.xxh3_128_hexdigest(collapsed[start:end])  # no copy: the buffer itself


_SPACE_TO_BLANK = bytes(32 if c < 128 and chr(c).isspace() else c for c in range(256))


@dataclass(frozen=True, order=True)
class Candidate:
    """What the keep policy needs of a document, small enough to shuffle in place of it."""

    id: str
    source: str
    length: int
    score: float
    path: str = ""  # the input the document came from, for its drop row (`Drop.path`)
    record: str = ""

    @classmethod
    def of(cls, doc: Document) -> Candidate:
        """The filter's chunk score is the quality tie-break (0 when never judged)."""
        return cls(doc.id, doc.source, len(doc.text), filter_score(doc.meta) or 0.0,
                   *locator_of(doc.meta))

    def keep_order(self) -> tuple[int, float, str]:
        """Longest first, then best quality score, then smallest id: deterministic."""
        return (-self.length, -self.score, self.id)


def resolve_cluster(members: Iterable[Candidate], cluster: str
                    ) -> tuple[Candidate, list[Drop], dict[str, Any]]:
    """Keeper, one `duplicate` drop per other member, and the cluster's membership record."""
    ordered = sorted(members, key=Candidate.keep_order)
    keeper = ordered[0]
    drops = [Drop(m.id, m.source, "duplicate", f"duplicate-of:{keeper.id} cluster:{cluster}",
                  m.path, m.record) for m in ordered[1:]]
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
                    f"duplicate-of:{min(kept_in)} cluster:files (every file is a copy)"
                    ).with_locator(doc.meta)
    trimmed = remove_chunks(doc, removed)
    return replace(trimmed, meta=with_stage_keys(
        trimmed.meta, DEDUPE, duplicate_files_removed=sorted(gone)[:50],
        duplicate_files_count=len(removed)))
