"""Near-duplicate decisions as plain functions: each Beam step of `Dedupe` calls one of them.

The flow (pipeline/transforms/dedupe.py wires it). No text crosses a shuffle: documents
are read, decided on and written in streaming steps, and only small records are grouped.
`prepared` (exact drops and file cuts applied) -> `sketch_documents` (a bundle at a time;
the shingle sets `spill_sets` to scratch files when verifying) -> `bucket_blocks` (band
keys, salted, a block per shuffle partition) -> `block_stars`: `bucket_star` per bucket
(+ `block_heads` and another star when salted)
-> `verification_plan` / `verification_messages` (where each candidate's set is read) ->
`verified_edges` (exact Jaccard, the sets read back with `load_set`) ->
connected components (filters/components.py) -> `label_members` -> `component_decisions`
(keep policy) -> `final_document` per document.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import xxhash

from longweave.filters.components import Edge
from longweave.filters.exact import (
    Candidate,
    cut_files,
    normal_form_hash,
    normalised_text_hash,
    resolve_cluster,
)
from longweave.filters.minhash import (
    MinHashParams,
    band_keys,
    jaccard,
    shingle_hashes,
    signatures,
    sorted_unique,
    word_shingles,
)
from longweave.filters.utf8text import normal_form
from longweave.schemas import fs
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.meta import DEDUPE, with_stage_keys

BucketKey = tuple[int, int, int]  # (band, key of the band's rows, salt)


# Where a document's shingle set is for the pair check: in memory, or `(file, first value,
# count)` of uint32 values a sketching worker spilled (so no set crosses a shuffle).
SetRef = np.ndarray | tuple[str, int, int]


@dataclass(frozen=True)
class NearSketch:
    """All near-dedup needs of one document: small enough to shuffle in place of it."""

    candidate: Candidate
    keys: list[tuple[int, int]]
    shingles: SetRef | None = None  # sorted unique shingle hashes, when pairs are verified


class Verdict(NamedTuple):
    """The decision for one member of a near-duplicate cluster."""

    doc_id: str
    cluster: str
    size: int
    drop: Drop | None  # None: the member is the cluster's survivor


class PlanEntry(NamedTuple):
    """What one document on a candidate edge sends to the pair check."""

    is_low: bool  # the low end of some edge: its own set is needed where it is checked
    lows: tuple[str, ...]  # the low ends of its edges as the high end


def eligible(doc: Document, kinds: Collection[str]) -> bool:
    """Whether `doc` takes part in near-dedup (no kinds listed: every document does)."""
    return not kinds or doc.kind in kinds


def prepared(doc: Document, exact_dropped: Mapping[str, Any],
             cuts: Mapping[str, list[tuple[str, str]]]) -> Document | Drop | None:
    """`doc` as near-dedup sees it: None when exact dedup dropped it (that step wrote its
    drop), else with the repeated files cut (a Drop when nothing is left)."""
    if doc.id in exact_dropped:
        return None
    found = cuts.get(doc.id)
    return cut_files([doc], found)[0] if found else doc


def sketch_document(doc: Document, params: MinHashParams,
                    perms: tuple[np.ndarray, np.ndarray], verify: bool = False
                    ) -> NearSketch | None:
    """Band keys (and the shingle set when `verify`) of one document; None for a document
    without a shingle, which is nobody's near-duplicate."""
    return sketch_documents([doc], params, perms, verify)[0]


def sketch_documents(docs: Sequence[Document], params: MinHashParams,
                     perms: tuple[np.ndarray, np.ndarray], verify: bool = False
                     ) -> list[NearSketch | None]:
    """`sketch_document` of a batch, the signatures computed together (see `signatures`)."""
    return sketch_shingled([Candidate.of(d) for d in docs],
                           [shingle_hashes(d.text, params.shingle, params.ngram) for d in docs],
                           params, perms, verify)


def fingerprint(doc: Document, params: MinHashParams, kinds: Collection[str],
                exact: bool) -> tuple[str | None, np.ndarray | None]:
    """A document's exact key (with `exact`) and its shingle hashes (when it takes part
    in near-dedup), from one fold of its text when both are wanted: the same values as
    `exact.exact_key` and `shingle_hashes` give apart (word shingles read the exact key's
    normal form)."""
    folded = normal_form(doc.text) if exact and params.shingle == "word" else None
    key = None if not exact else (
        normal_form_hash(folded) if folded is not None else normalised_text_hash(doc.text))
    if not eligible(doc, kinds):
        return key, None
    hashes = word_shingles(folded, params.ngram) if folded is not None else \
        shingle_hashes(doc.text, params.shingle, params.ngram)
    return key, hashes


def sketch_shingled(candidates: Sequence[Candidate], hashes: Sequence[np.ndarray],
                    params: MinHashParams, perms: tuple[np.ndarray, np.ndarray],
                    verify: bool = False) -> list[NearSketch | None]:
    """`sketch_documents` of documents whose shingle hashes are already computed (None
    for one without any shingle)."""
    sigs = signatures(list(hashes), params, perms)
    return [NearSketch(c, band_keys(sig, params), sorted_unique(h) if verify else None)
            if len(h) else None for c, h, sig in zip(candidates, hashes, sigs, strict=True)]


def spill_sets(sketches: Sequence[NearSketch], path: str) -> list[NearSketch]:
    """The sketches with their in-memory shingle sets written to one file at `path` and
    replaced by `(path, first value, count)`: the pair check reads back the few it needs."""
    arrays = [s.shingles for s in sketches if isinstance(s.shingles, np.ndarray)]
    if not arrays:
        return list(sketches)
    fs.write_bytes(path, np.concatenate(arrays).astype("<u4").tobytes())
    out, first = [], 0
    for s in sketches:
        if isinstance(s.shingles, np.ndarray):
            out.append(replace(s, shingles=(path, first, len(s.shingles))))
            first += len(s.shingles)
        else:
            out.append(s)
    return out


def load_set(ref: SetRef) -> np.ndarray:
    """A shingle set from its `SetRef`."""
    if isinstance(ref, np.ndarray):
        return ref
    path, first, count = ref
    with fs.open_binary(path) as handle:
        handle.seek(first * 4)
        return np.frombuffer(handle.read(count * 4), dtype="<u4").astype(np.uint32)


def salt(doc_id: str, salts: int) -> int:
    """The sub-bucket of a document: a hash of its id, so every worker agrees."""
    return xxhash.xxh32_intdigest(doc_id.encode()) % salts if salts > 1 else 0


# The shuffle partitions of the band entries: each bundle sends its entries as one block
# per partition, not one element per (document, band), and a partition's reducer finds its
# buckets by sorting. A reducer holds 1/BUCKET_PARTITIONS of all entries (16 bytes and an
# id each, 18 entries a document at the defaults): 64 partitions are 64 reducers to spread
# over workers, and a small run sends a few hundred elements instead of one per entry.
BUCKET_PARTITIONS = 64

# `(slots, keys, ids)`: per entry the bucket's `band * salts + salt` and band key as int64
# bytes, and the document id: arrays, so Beam's coder writes a block in a few calls.
BucketBlock = tuple[bytes, bytes, tuple[str, ...]]


def bucket_blocks(entries: Iterable[tuple[str, Sequence[tuple[int, int]]]], salts: int,
                  partitions: int = BUCKET_PARTITIONS) -> list[tuple[int, BucketBlock]]:
    """`(partition, block)` for the band keys of many documents (`(id, keys)` each, a
    bundle's): every entry of a bucket `(band, key, salt)` goes to the same partition, and
    the `salts` parts of a hot bucket (split by document id) to different ones."""
    slots: list[int] = []
    keys: list[int] = []
    ids: list[str] = []
    for doc_id, doc_keys in entries:
        part = salt(doc_id, salts)
        slots += [band * salts + part for band, _ in doc_keys]
        keys += [key for _, key in doc_keys]
        ids += [doc_id] * len(doc_keys)
    if not keys:
        return []
    slot_array = np.array(slots, dtype=np.int64)
    key_array = np.array(keys, dtype=np.int64)
    where = (key_array % partitions + slot_array % salts) % partitions
    order = np.argsort(where, kind="stable")
    bounds = np.flatnonzero(np.diff(where[order])) + 1
    out = []
    for chosen in np.split(order, bounds):
        out.append((int(where[chosen[0]]), (slot_array[chosen].tobytes(),
                                            key_array[chosen].tobytes(),
                                            tuple(ids[i] for i in chosen.tolist()))))
    return out


def block_buckets(blocks: Iterable[BucketBlock], salts: int, singletons: bool = False
                  ) -> list[tuple[BucketKey, list[str]]]:
    """The buckets of one partition's blocks, `((band, key, salt), ids)` in key order:
    those of two or more entries (candidates), or every one with `singletons` (a salted
    bucket's heads need its parts of one member too)."""
    blocks = list(blocks)
    if not blocks:
        return []
    slots = np.concatenate([np.frombuffer(b[0], dtype=np.int64) for b in blocks])
    keys = np.concatenate([np.frombuffer(b[1], dtype=np.int64) for b in blocks])
    ids = [doc_id for b in blocks for doc_id in b[2]]
    order = np.lexsort((keys, slots))
    slots, keys = slots[order], keys[order]
    starts = np.flatnonzero(np.concatenate(
        ([True], (slots[1:] != slots[:-1]) | (keys[1:] != keys[:-1]))))
    ends = np.append(starts[1:], len(order))
    if not singletons:
        several = ends - starts > 1
        starts, ends = starts[several], ends[several]
    order_list = order.tolist()
    return [((slot // salts, key, slot % salts), [ids[i] for i in order_list[a:b]])
            for slot, key, a, b in zip(slots[starts].tolist(), keys[starts].tolist(),
                                       starts.tolist(), ends.tolist(), strict=True)]


def block_stars(blocks: Iterable[BucketBlock], salts: int) -> list[Edge]:
    """The candidate pairs of one partition: `bucket_star` of each bucket."""
    return [edge for _, members in block_buckets(blocks, salts) for edge in bucket_star(members)]


def block_heads(blocks: Iterable[BucketBlock], salts: int) -> list[tuple[tuple[int, int], str]]:
    """`bucket_head` of every salted sub-bucket of one partition."""
    return [bucket_head(key, members)
            for key, members in block_buckets(blocks, salts, singletons=True)]


# A bucket of at most this many members gives every pair as a candidate, a larger one a
# star around its smallest id. With verification a star loses a pair whose star edge fails
# the check while a pair inside the family passes (two variants of one text, the centre
# a third that is further from each): a family of 3 is 3 pairs, not 2. Beyond the cap, a
# hot bucket (shared boilerplate) stays linear: `size - 1` edges, at most one per member.
CLIQUE_MAX = 8


def bucket_star(members: Iterable[str]) -> list[Edge]:
    """Candidate pairs of one bucket in `(high, low)` form: all of them in a bucket of
    `CLIQUE_MAX` or fewer, else a star around its smallest id (`size - 1` edges instead
    of all pairs; the components restore the rest)."""
    ordered = sorted(set(members))
    if len(ordered) <= CLIQUE_MAX:
        return [(high, low) for i, low in enumerate(ordered) for high in ordered[i + 1:]]
    return [(m, ordered[0]) for m in ordered[1:]]


def bucket_head(key: BucketKey, members: Iterable[str]) -> tuple[tuple[int, int], str]:
    """A salted sub-bucket's smallest id under its unsalted key: the heads' star joins
    the sub-buckets' stars back into one."""
    return (key[0], key[1]), min(members)


def verification_plan(node: str, ends: Iterable[str | None]) -> tuple[str, PlanEntry]:
    """One node's `PlanEntry` from the ends of its edges (`None`: it is a low end)."""
    ends = list(ends)
    return node, PlanEntry(None in ends, tuple(sorted({e for e in ends if e is not None})))


def edge_ends(edge: Edge) -> list[tuple[str, str | None]]:
    """An edge `(high, low)` as seen from both nodes, for `verification_plan`."""
    return [(edge[0], edge[1]), (edge[1], None)]


def verification_messages(doc_id: str, entries: Iterable[PlanEntry],
                          refs: Iterable[SetRef]) -> list[tuple[str, tuple[str | None, SetRef]]]:
    """A candidate's shingle set reference, sent to where each of its pairs is checked
    (the low end's key): `(low, (high, ref))` per edge it is the high end of,
    `(self, (None, ref))` when it is a low end itself; nothing for a node on no edge."""
    out: list[tuple[str, tuple[str | None, SetRef]]] = []
    for entry in entries:
        for ref in refs:
            out += [(low, (doc_id, ref)) for low in entry.lows]
            if entry.is_low:
                out.append((doc_id, (None, ref)))
    return out


def verified_edges(low: str, messages: Iterable[tuple[str | None, SetRef]],
                   threshold: float) -> list[Edge]:
    """The candidate pairs `(high, low)` whose exact Jaccard reaches the threshold (LSH
    candidates below it are false positives of the banding)."""
    messages = list(messages)
    own = [ref for high, ref in messages if high is None]
    loaded: dict[int, np.ndarray] = {}  # the low end's own sets, read when first needed
    edges = []
    for high, ref in messages:
        for k, low_ref in enumerate(own if high is not None else []):
            if not _may_reach(ref, low_ref, threshold):
                continue
            if k not in loaded:
                loaded[k] = load_set(low_ref)
            if jaccard(load_set(ref), loaded[k]) >= threshold:
                edges.append((high, low))
    return sorted(edges)


def _may_reach(first: SetRef, second: SetRef, threshold: float) -> bool:
    """Whether two sets' sizes allow a Jaccard of `threshold` (it is at most the smaller
    size over the larger): a pair that cannot is rejected without reading its set."""
    small, large = sorted((_set_size(first), _set_size(second)))
    return small >= threshold * large * (1 - 1e-12)  # rounding never rejects a pair at it


def _set_size(ref: SetRef) -> int:
    return len(ref) if isinstance(ref, np.ndarray) else ref[2]


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


def not_dropped(doc_id: str, exact_dropped: Mapping[str, Any],
                verdicts: Mapping[str, Verdict]) -> bool:
    """Whether a document can still reach the output (its drop was not written already)."""
    verdict = verdicts.get(doc_id)
    return doc_id not in exact_dropped and (verdict is None or verdict.drop is None)


def final_document(doc: Document, exact_dropped: Mapping[str, Any],
                   cuts: Mapping[str, list[tuple[str, str]]],
                   verdicts: Mapping[str, Verdict]) -> Document | Drop | None:
    """A document as dedupe leaves it: None when an earlier step already wrote its drop
    (exact or near duplicate), a Drop when every file was a copy, else the document, the
    survivor of a near-duplicate cluster with its cluster id and size in `meta["dedupe"]`."""
    doc = prepared(doc, exact_dropped, cuts)
    if not isinstance(doc, Document):
        return doc
    verdict = verdicts.get(doc.id)
    if verdict is None:
        return doc
    if verdict.drop is not None:
        return None
    return replace(doc, meta=with_stage_keys(doc.meta, DEDUPE, cluster=verdict.cluster,
                                             cluster_size=verdict.size))
