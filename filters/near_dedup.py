"""Near-duplicate decisions as plain functions: each Beam step of `Dedupe` calls one of them.

The flow (pipeline/transforms/dedupe.py wires it; every arrow is a shuffle there):
document -> `sketch_document` -> `bucket_entries` (band keys, salted) -> `bucket_star`
per bucket (+ `bucket_head` and another star when salted) -> `carry_high_set` /
`verified_edges` (exact Jaccard) -> connected components (filters/components.py) ->
`label_members` -> `component_decisions` (keep policy) -> `apply_verdict` per document.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import xxhash

from longweave.filters.components import Edge
from longweave.filters.exact import Candidate, resolve_cluster
from longweave.filters.minhash import (
    MinHashParams,
    band_keys,
    jaccard,
    shingle_hashes,
    signature,
    sorted_unique,
)
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.meta import DEDUPE, with_stage_keys

BucketKey = tuple[int, int, int]  # (band, key of the band's rows, salt)


@dataclass(frozen=True)
class NearSketch:
    """All near-dedup needs of one document: small enough to shuffle in place of it."""

    candidate: Candidate
    keys: list[tuple[int, int]]
    shingles: np.ndarray | None  # sorted unique shingle hashes, when pairs are verified


class Verdict(NamedTuple):
    """The decision for one member of a near-duplicate cluster."""

    doc_id: str
    cluster: str
    size: int
    drop: Drop | None  # None: the member is the cluster's survivor


def eligible(doc: Document, kinds: Collection[str]) -> bool:
    """Whether `doc` takes part in near-dedup (no kinds listed: every document does)."""
    return not kinds or doc.kind in kinds


def sketch_document(doc: Document, params: MinHashParams,
                    perms: tuple[np.ndarray, np.ndarray], verify: bool) -> NearSketch | None:
    """Band keys (and the shingle set when `verify`); None for a document without a
    shingle, which is nobody's near-duplicate."""
    hashes = shingle_hashes(doc.text, params.shingle, params.ngram)
    if not len(hashes):
        return None
    sig = signature(hashes, params, perms)
    return NearSketch(Candidate.of(doc), band_keys(sig, params),
                      sorted_unique(hashes) if verify else None)


def salt(doc_id: str, salts: int) -> int:
    """The sub-bucket of a document: a hash of its id, so every worker agrees."""
    return xxhash.xxh32_intdigest(doc_id.encode()) % salts if salts > 1 else 0


def bucket_entries(sketch: NearSketch, salts: int) -> list[tuple[BucketKey, str]]:
    """One `((band, key, salt), id)` per band: a hot bucket splits into `salts` parts."""
    doc_id = sketch.candidate.id
    part = salt(doc_id, salts)
    return [((band, key, part), doc_id) for band, key in sketch.keys]


def bucket_star(members: Iterable[str]) -> list[Edge]:
    """Candidate pairs of one bucket as a star around its smallest id: `size - 1` edges
    instead of all pairs, already in `(high, low)` form; the components restore the rest."""
    ordered = sorted(set(members))
    return [(m, ordered[0]) for m in ordered[1:]]


def bucket_head(key: BucketKey, members: Iterable[str]) -> tuple[tuple[int, int], str]:
    """A salted sub-bucket's smallest id under its unsalted key: the heads' star joins
    the sub-buckets' stars back into one."""
    return (key[0], key[1]), min(members)


def carry_high_set(high: str, lows: Iterable[str], sets: Iterable[np.ndarray]
                   ) -> list[tuple[str, tuple[str, np.ndarray]]]:
    """First half of the pair check: the high end's shingle set travels to each low end."""
    sets = list(sets)
    return [(low, (high, s)) for low in lows for s in sets]


def verified_edges(low: str, pending: Iterable[tuple[str, np.ndarray]],
                   sets: Iterable[np.ndarray], threshold: float) -> list[Edge]:
    """Second half: the candidate pairs `(high, low)` whose exact Jaccard reaches the
    threshold (LSH candidates below it are false positives of the banding)."""
    sets = list(sets)
    return [(high, low) for high, high_set in pending for low_set in sets
            if jaccard(high_set, low_set) >= threshold]


def label_members(labels: Iterable[str], candidates: Iterable[Candidate]
                  ) -> list[tuple[str, Candidate]]:
    """A document's candidate under its component label (none for a document on no edge)."""
    candidates = list(candidates)
    return [(label, c) for label in labels for c in candidates]


def component_decisions(label: str, members: Iterable[Candidate]
                        ) -> tuple[dict[str, Any], list[Verdict]]:
    """The cluster record and one verdict per member: the keep policy (longest, then
    quality, then smallest id) picks the survivor, the others become
    `duplicate-of:<survivor> cluster:<label>` drops."""
    keeper, drops, record = resolve_cluster(members, label)
    size = record["size"]
    verdicts = [Verdict(keeper.id, label, size, None),
                *(Verdict(d.doc_id, label, size, d) for d in drops)]
    return {**record, "method": "minhash"}, verdicts


def apply_verdict(docs: Iterable[Document], verdicts: Iterable[Verdict]
                  ) -> list[Document | Drop]:
    """A document as near-dedup leaves it: untouched (in no cluster), its drop, or the
    survivor with its cluster id and size in `meta["dedupe"]`."""
    docs, verdicts = list(docs), list(verdicts)
    if not verdicts:
        return docs
    verdict = verdicts[0]
    if verdict.drop is not None:
        return [verdict.drop]
    return [replace(d, meta=with_stage_keys(d.meta, DEDUPE, cluster=verdict.cluster,
                                            cluster_size=verdict.size)) for d in docs]
