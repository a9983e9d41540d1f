"""Related-document grouping over compact per-document sketches.

Two methods: keyword-centred groups in the manner of Quest (each document joins the group
of one of its keywords; too-common keywords are capped out so they do not swallow the
corpus) and In-Context-Pretraining chains (a greedy nearest-neighbour walk that uses
each document once). Both see only `Sketch`es, so the Beam shell can collect the whole
corpus's sketches on one worker: about 0.5 KB per document, i.e. a few million documents.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from longweave.filters import minhash
from longweave.filters.minhash import MinHashParams
from longweave.schemas.document import Document
from longweave.schemas.recipe_synth import GroupingConfig, SynthesizeConfig
from longweave.schemas.seeded import stable_hash
from longweave.synth.families import NEXT_WORD, askable
from longweave.synth.families.base import traits
from longweave.synth.textutil import doc_title, term_counts


@dataclass(frozen=True)
class Sketch:
    """What grouping needs to know about one document, small enough to gather globally."""

    doc_id: str
    source: str
    title: str
    chars: int
    terms: tuple[tuple[str, int], ...]  # most frequent content terms with counts
    minhash: tuple[int, ...] = ()
    traits: tuple[str, ...] = ()  # what question families the row can feed (families.traits)


@dataclass(frozen=True)
class Group:
    """Related documents in reading order; `centre` is the keyword or the walk's start."""

    group_id: str
    method: str
    centre: str
    member_ids: tuple[str, ...]


def sketch_families(config: SynthesizeConfig) -> tuple[str, ...]:
    """The grounded question families a sketch should search its row for."""
    if not (config.enabled and config.paraphrase.enabled):
        return ()
    return tuple(sorted(f for f, share in config.paraphrase.families.items()
                        if share > 0 and f != NEXT_WORD))


def make_sketch(doc: Document, config: GroupingConfig, families: tuple[str, ...] = ()
                ) -> Sketch:
    """`families`: grounded families to search the row for (`sketch_families`); with none,
    the plan selects rows by their kind and languages alone."""
    top = top_terms(term_counts(doc.text), config.candidate_terms)
    signature: tuple[int, ...] = ()
    if config.method == "icp" and config.similarity == "minhash":
        signature = tuple(minhash.sketch(doc.text, minhash_params(config)).tolist())
    return Sketch(doc.id, doc.source, doc_title(doc), len(doc.text), tuple(top), signature,
                  traits(doc) + askable(doc, families))


def top_terms(counts: Counter[str], k: int) -> list[tuple[str, int]]:
    """The `k` most frequent terms, ties broken by the term: what sorting every term gives,
    with only the terms at or above the k-th largest count sorted by key (a book has tens
    of thousands of distinct words; the counts alone sort in C)."""
    items = counts.items()
    if 0 < k < len(counts):
        floor = sorted(counts.values(), reverse=True)[k - 1]
        items = [kv for kv in items if kv[1] >= floor]
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))[:k]


def minhash_params(config: GroupingConfig) -> MinHashParams:
    """Word 3-grams, `minhash_perm` permutations, bands x rows at the FP/FN optimum for
    `minhash_threshold`; a fixed seed, so every worker's sketches compare."""
    return MinHashParams.create(shingle="word", ngram=3, num_perm=config.minhash_perm,
                                threshold=config.minhash_threshold, seed=1)


def select_keywords(sketches: list[Sketch], config: GroupingConfig) -> dict[str, list[str]]:
    """TF-IDF top keywords per document, skipping keywords above the document-frequency cap.

    Document frequency is counted over the sketches' candidate terms: a term that is
    frequent somewhere counts there; that is enough to rank and to cap.
    """
    df: dict[str, int] = defaultdict(int)
    for sketch in sketches:
        for term, _ in sketch.terms:
            df[term] += 1
    n = max(1, len(sketches))
    cap = max(config.keyword_df_cap_floor, int(config.keyword_df_cap_fraction * n))
    keywords: dict[str, list[str]] = {}
    for sketch in sketches:
        scored = [(count * math.log(1 + n / df[term]), term) for term, count in sketch.terms
                  if df[term] <= cap]
        scored.sort(key=lambda st: (-st[0], st[1]))
        keywords[sketch.doc_id] = [t for _, t in scored[: config.keywords_per_doc]]
    return keywords


def keyword_groups(sketches: list[Sketch], config: GroupingConfig, seed: int) -> list[Group]:
    """Quest-style: the keyword shared by the most unplaced documents takes them as a group.

    Repeats until no keyword joins two unplaced documents (a lazy max-heap keeps it near
    O(K log K)). Keywords above the document-frequency cap never compete (see
    `select_keywords`), and `max_group_docs` splits what one keyword collects. The seed
    breaks ties and orders members, so different seeds give different contexts.
    """
    keywords = select_keywords(sketches, config)
    index: dict[str, list[str]] = defaultdict(list)
    for doc_id in sorted(keywords):
        for term in keywords[doc_id]:
            index[term].append(doc_id)
    placed: set[str] = set()
    heap = [(-len(docs), stable_hash(seed, "kw", term), term) for term, docs in index.items()
            if len(docs) >= 2]
    heapq.heapify(heap)
    groups: list[Group] = []
    while heap:
        neg, tie, term = heapq.heappop(heap)
        free = [d for d in index[term] if d not in placed]
        if len(free) < 2:
            continue
        if len(free) != -neg:
            heapq.heappush(heap, (-len(free), tie, term))
            continue
        placed.update(free)
        members = sorted(free, key=lambda d: stable_hash(seed, term, d))
        for start in range(0, len(members), config.max_group_docs):
            chunk = tuple(members[start:start + config.max_group_docs])
            groups.append(Group(stable_hash("kw", term, *chunk), "keywords", term, chunk))
    groups.extend(Group(stable_hash("single", d), "keywords", "", (d,))
                  for d in sorted(keywords) if d not in placed)
    return groups


def neighbours(sketches: list[Sketch], config: GroupingConfig) -> dict[str, list[str]]:
    """Up to `config.neighbours` most similar documents per document, best first."""
    if config.similarity == "minhash":
        return _minhash_neighbours(sketches, config)
    keywords = select_keywords(sketches, config)
    weights = _tfidf_vectors(sketches, keywords)
    index: dict[str, list[str]] = defaultdict(list)
    for doc_id in sorted(weights):
        for term in weights[doc_id]:
            index[term].append(doc_id)
    out: dict[str, list[str]] = {}
    for doc_id in sorted(weights):
        vec = weights[doc_id]
        scores: dict[str, float] = defaultdict(float)
        for term, w in vec.items():
            for other in index[term]:
                if other != doc_id:
                    scores[other] += w * weights[other][term]
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        out[doc_id] = [d for d, _ in ranked[: config.neighbours]]
    return out


def _tfidf_vectors(sketches: list[Sketch], keywords: dict[str, list[str]]
                   ) -> dict[str, dict[str, float]]:
    """Unit-length TF-IDF vectors over each document's keywords (cosine = dot product)."""
    df: dict[str, int] = defaultdict(int)
    for doc_id in keywords:
        for term in keywords[doc_id]:
            df[term] += 1
    n = max(1, len(sketches))
    vectors: dict[str, dict[str, float]] = {}
    for sketch in sketches:
        counts = dict(sketch.terms)
        vec = {t: counts[t] * math.log(1 + n / df[t]) for t in keywords[sketch.doc_id]}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors[sketch.doc_id] = {t: v / norm for t, v in vec.items()}
    return vectors


def _minhash_neighbours(sketches: list[Sketch], config: GroupingConfig) -> dict[str, list[str]]:
    """LSH candidates (a shared band), ranked by estimated Jaccard, then id."""
    params = minhash_params(config)
    signatures = {s.doc_id: np.asarray(s.minhash, dtype=np.uint32) for s in sketches}
    keys = {doc_id: minhash.band_keys(sig, params) for doc_id, sig in sorted(signatures.items())}
    buckets = minhash.band_buckets(keys.items())
    out: dict[str, list[str]] = {}
    for doc_id, sig in sorted(signatures.items()):
        candidates = {o for key in keys[doc_id] for o in buckets[key] if o != doc_id}
        scored = sorted((-minhash.estimated_jaccard(sig, signatures[o]), o) for o in candidates)
        out[doc_id] = [o for _, o in scored[: config.neighbours]]
    return out


def icp_chains(sketches: list[Sketch], config: GroupingConfig, seed: int) -> list[Group]:
    """In-Context-Pretraining order: walk to the nearest unused neighbour, each doc once.

    A walk starts at the unused document with the fewest neighbours (hard-to-place documents
    first, as ICP does), stops at a dead end or at `max_chain_docs`, and the next walk starts.
    """
    graph = neighbours(sketches, config)
    used: set[str] = set()
    order = sorted(graph, key=lambda d: (len(graph[d]), stable_hash(seed, "icp", d)))
    groups: list[Group] = []
    for start in order:
        if start in used:
            continue
        chain = [start]
        used.add(start)
        while len(chain) < config.max_chain_docs:
            nxt = next((d for d in graph[chain[-1]] if d not in used), None)
            if nxt is None:
                break
            chain.append(nxt)
            used.add(nxt)
        groups.append(Group(stable_hash("icp", *chain), "icp", start, tuple(chain)))
    return groups


def group_documents(sketches: list[Sketch], config: GroupingConfig, seed: int) -> list[Group]:
    """Every document lands in exactly one group (singletons included), in a stable order."""
    if len(sketches) > config.max_sketch_docs:
        raise ValueError(f"synthesize.grouping.max_sketch_docs: {len(sketches)} documents "
                         f"exceed the {config.max_sketch_docs} that one worker may group")
    ordered = sorted(sketches, key=lambda s: s.doc_id)
    if config.method == "icp":
        return icp_chains(ordered, config, seed)
    return keyword_groups(ordered, config, seed)
