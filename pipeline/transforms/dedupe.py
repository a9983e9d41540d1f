"""The dedupe stage's Beam transform: exact duplicates, repeated files, then MinHash LSH.

Everything is keyed and shuffled by Beam; no step collects the corpus on one worker.
Near-dedup: signature per document -> one key per LSH band -> star edges per bucket
(salted into sub-buckets when `band_salts > 1`, so a hot bucket spreads over workers)
-> optional exact-Jaccard check -> unrolled large-star/small-star rounds -> a finish that
union-finds only the edges of components not yet stars (none once converged) -> keep
policy per component -> documents joined back by id.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import numpy as np
import xxhash

from longweave.filters.components import (
    both_directions,
    edge,
    large_star,
    node_view,
    small_star,
    union_find,
)
from longweave.filters.exact import (
    Candidate,
    drop_files,
    file_fingerprints,
    normalised_text_hash,
    resolve_cluster,
    resolve_exact_group,
)
from longweave.filters.minhash import (
    MinHashParams,
    band_keys,
    jaccard,
    shingle_hashes,
    signature,
    sorted_unique,
)
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_filters import DedupeConfig

CLUSTERS = "clusters"
COMPONENTS = "components"


def _route(item: Any) -> beam.pvalue.TaggedOutput:
    tag = DOCUMENTS if isinstance(item, Document) else DROPS if isinstance(item, Drop) \
        else CLUSTERS
    return beam.pvalue.TaggedOutput(tag, item)


class Dedupe(beam.PTransform):
    """PCollection[Document] -> {"documents", "drops", "clusters", "components"}."""

    def __init__(self, config: DedupeConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        self.params = MinHashParams.create(
            config.shingle, config.ngram, config.num_perm, config.threshold,
            config.bands, config.rows, seed)

    def expand(self, docs: beam.PCollection) -> dict:
        drops, clusters = [], []
        if self.config.exact:
            routed = (docs
                      | "KeyByTextHash" >> beam.Map(lambda d: (normalised_text_hash(d.text), d))
                      | "GroupByTextHash" >> beam.GroupByKey()
                      | "KeepOnePerHash" >> beam.FlatMap(lambda kv: resolve_exact_group(*kv))
                      | "RouteExact" >> beam.Map(_route).with_outputs(DOCUMENTS, DROPS, CLUSTERS))
            docs = routed[DOCUMENTS]
            drops.append(routed[DROPS])
            clusters.append(routed[CLUSTERS])
        if self.config.file_level:
            docs, file_drops = docs | "FileLevel" >> _FileDedupe()
            drops.append(file_drops)
        components = None
        if self.config.near:
            near = docs | "Near" >> _NearDedupe(self.params, self.config)
            docs, components = near[DOCUMENTS], near[COMPONENTS]
            drops.append(near[DROPS])
            clusters.append(near[CLUSTERS])
        pipeline = docs.pipeline
        none = pipeline | "NoRecords" >> beam.Create([])
        out = {
            DOCUMENTS: docs,
            DROPS: (drops or [none]) | "AllDrops" >> beam.Flatten(),
            CLUSTERS: (clusters or [none]) | "AllClusters" >> beam.Flatten(),
        }
        if components is not None:
            out[COMPONENTS] = components
        return out


class _FileDedupe(beam.PTransform):
    """Repeated `file:` spans across repo documents: the copy in the smallest document id
    (then path) stays, other copies are cut out of their documents."""

    def expand(self, docs: beam.PCollection):
        keyed = docs | "KeyById" >> beam.Map(lambda d: (d.id, d))
        removals = (
            docs
            | "Fingerprints" >> beam.FlatMap(lambda d: [(h, (d.id, label)) for h, label in (
                file_fingerprints(d) if d.kind == "repo" else [])])
            | "GroupFiles" >> beam.GroupByKey()
            | "CopiesToCut" >> beam.FlatMap(_copies_to_cut)
        )
        resolved = ({"doc": keyed, "cut": removals} | "JoinCuts" >> beam.CoGroupByKey()
                    | "CutFiles" >> beam.FlatMap(_cut_files))
        routed = resolved | "RouteFiles" >> beam.Map(_route).with_outputs(DOCUMENTS, DROPS)
        return routed[DOCUMENTS], routed[DROPS]


def _copies_to_cut(kv: tuple[str, Any]) -> list[tuple[str, tuple[str, str]]]:
    copies = sorted(set(kv[1]))
    keeper = copies[0]
    return [(doc_id, (label, keeper[0])) for doc_id, label in copies[1:] if doc_id != keeper[0]]


def _cut_files(kv: tuple[str, dict]) -> list[Document | Drop]:
    docs, cuts = kv[1]["doc"], kv[1]["cut"]
    if not cuts:
        return list(docs)
    labels = [label for label, _ in cuts]
    keepers = [keeper for _, keeper in cuts]
    return [drop_files(doc, labels, keepers) for doc in docs]


class _Sketch(beam.DoFn):
    """Document -> (Candidate, band keys, shingle set or None): all near-dedup needs."""

    def __init__(self, params: MinHashParams, verify: bool) -> None:
        self.params, self.verify = params, verify
        self._perms: tuple[np.ndarray, np.ndarray] | None = None

    def setup(self) -> None:
        self._perms = self.params.band_permutations()

    def process(self, doc: Document):
        hashes = shingle_hashes(doc.text, self.params.shingle, self.params.ngram)
        if len(hashes):  # an empty document is nobody's near-duplicate
            sig = signature(hashes, self.params, self._perms)
            shingles = sorted_unique(hashes) if self.verify else None
            yield Candidate.of(doc), band_keys(sig, self.params), shingles


def _salt(doc_id: str, salts: int) -> int:
    return xxhash.xxh32_intdigest(doc_id.encode()) % salts if salts > 1 else 0


def _bucket_star(kv: tuple[Any, Any]) -> list[tuple[str, str]]:
    members = sorted(set(kv[1]))
    return [(m, members[0]) for m in members[1:]]


class _NearDedupe(beam.PTransform):
    def __init__(self, params: MinHashParams, config: DedupeConfig) -> None:
        super().__init__()
        self.params, self.config = params, config

    def expand(self, docs: beam.PCollection) -> dict:
        params, config = self.params, self.config
        kinds = set(config.kinds)
        eligible = docs | "Eligible" >> beam.Filter(lambda d: not kinds or d.kind in kinds)
        sketches = eligible | "Sketch" >> beam.ParDo(_Sketch(params, config.verify))
        salts = config.band_salts
        # Salt = a hash of the id (same on every worker): a hot bucket splits in `salts`.
        salted = (
            sketches
            | "BandKeys" >> beam.FlatMap(lambda s: [
                ((band, key, _salt(s[0].id, salts)), s[0].id)
                for band, key in s[1]])
            | "GroupBuckets" >> beam.GroupByKey()
        )
        edges = salted | "BucketStars" >> beam.FlatMap(_bucket_star)
        if salts > 1:
            heads = (salted
                     | "BucketHeads" >> beam.Map(lambda kv: ((kv[0][0], kv[0][1]), min(kv[1])))
                     | "GroupHeads" >> beam.GroupByKey()
                     | "HeadStars" >> beam.FlatMap(_bucket_star))
            edges = (edges, heads) | "AllStars" >> beam.Flatten()
        edges = edges | "Canonical" >> beam.Map(lambda e: edge(*e)) | "DistinctEdges" >> beam.Distinct()
        if config.verify:
            edges = _verified(edges, sketches, params.threshold)
        labels, stats = _components(edges, config.cc_rounds)
        candidates = sketches | "CandidateById" >> beam.Map(lambda s: (s[0].id, s[0]))
        decisions = (
            {"label": labels, "candidate": candidates} | "JoinLabels" >> beam.CoGroupByKey()
            | "ByComponent" >> beam.FlatMap(lambda kv: [
                (label, c) for label in kv[1]["label"] for c in kv[1]["candidate"]])
            | "GroupComponents" >> beam.GroupByKey()
            | "KeepPolicy" >> beam.FlatMap(_decide)
        )
        routed = decisions | "RouteDecisions" >> beam.Map(
            lambda item: beam.pvalue.TaggedOutput(
                CLUSTERS if isinstance(item, dict) else "verdicts", item)
        ).with_outputs(CLUSTERS, "verdicts")
        keyed = docs | "DocById" >> beam.Map(lambda d: (d.id, d))
        applied = ({"doc": keyed, "verdict": routed["verdicts"]}
                   | "JoinVerdicts" >> beam.CoGroupByKey()
                   | "ApplyVerdicts" >> beam.FlatMap(_apply_verdict)
                   | "RouteNear" >> beam.Map(_route).with_outputs(DOCUMENTS, DROPS))
        return {DOCUMENTS: applied[DOCUMENTS], DROPS: applied[DROPS],
                CLUSTERS: routed[CLUSTERS], COMPONENTS: stats}


def _verified(edges: beam.PCollection, sketches: beam.PCollection, threshold: float
              ) -> beam.PCollection:
    """Keep only candidate pairs whose exact Jaccard reaches the threshold."""
    sets = sketches | "ShinglesById" >> beam.Map(lambda s: (s[0].id, s[2]))
    first = ({"edge": edges, "set": sets} | "JoinHigh" >> beam.CoGroupByKey()
             | "CarryHigh" >> beam.FlatMap(lambda kv: [
                 (low, (kv[0], s)) for low in kv[1]["edge"] for s in kv[1]["set"]]))
    return ({"pending": first, "set": sets} | "JoinLow" >> beam.CoGroupByKey()
            | "CheckJaccard" >> beam.FlatMap(lambda kv: [
                (high, kv[0]) for high, high_set in kv[1]["pending"] for low_set in kv[1]["set"]
                if jaccard(high_set, low_set) >= threshold]))


def _components(edges: beam.PCollection, rounds: int
                ) -> tuple[beam.PCollection, beam.PCollection]:
    """(node, component label) for every node on an edge, and one stats record."""
    for r in range(rounds):
        edges = (edges
                 | f"LargeOut{r}" >> beam.FlatMap(both_directions)
                 | f"LargeGroup{r}" >> beam.GroupByKey()
                 | f"LargeStar{r}" >> beam.FlatMap(lambda kv: large_star(*kv))
                 | f"SmallGroup{r}" >> beam.GroupByKey()
                 | f"SmallStar{r}" >> beam.FlatMap(lambda kv: small_star(*kv)))
    ups = edges | "Ups" >> beam.Map(lambda e: (e[0], e[1]))
    downs = edges | "Downs" >> beam.Map(lambda e: (e[1], e[0]))
    views = ({"up": ups, "down": downs} | "NodeNeighbours" >> beam.CoGroupByKey()
             | "NodeView" >> beam.Map(lambda kv: (kv[0], node_view(kv[0], kv[1]["up"],
                                                                   kv[1]["down"]))))
    residual = (views
                | "BrokenEdges" >> beam.FlatMap(lambda kv: kv[1][2] if kv[1][1] else [])
                | "DistinctResidual" >> beam.Distinct())
    fixed = (residual
             | "OneKey" >> beam.Map(lambda e: (None, e))
             | "GroupResidual" >> beam.GroupByKey()
             | "UnionFind" >> beam.FlatMap(lambda kv: sorted(union_find(kv[1]).items())))
    labels = views | "Label" >> beam.Map(
        lambda kv, fix: (kv[0], fix.get(kv[0], fix.get(kv[1][0], kv[1][0]))),
        fix=beam.pvalue.AsDict(fixed))
    n_edges = edges | "CountEdges" >> beam.combiners.Count.Globally()
    n_residual = residual | "CountResidual" >> beam.combiners.Count.Globally()
    stats = n_edges | "Stats" >> beam.Map(
        lambda n, res: {"rounds": rounds, "edges": n, "residual_edges": res},
        res=beam.pvalue.AsSingleton(n_residual))
    return labels, stats


def _decide(kv: tuple[str, Any]) -> list[Any]:
    """Verdicts `(id, (keep|drop, …))` per member and the cluster record."""
    keeper, drops, record = resolve_cluster(kv[1], kv[0])
    out: list[Any] = [{**record, "method": "minhash"}]
    out.append((keeper.id, ("keep", kv[0], record["size"])))
    out.extend((d.doc_id, ("drop", d)) for d in drops)
    return out


def _apply_verdict(kv: tuple[str, dict]) -> list[Document | Drop]:
    docs, verdicts = kv[1]["doc"], kv[1]["verdict"]
    if not verdicts:
        return list(docs)
    verdict = verdicts[0]
    if verdict[0] == "drop":
        return [verdict[1]]
    out = []
    for doc in docs:
        meta = {**doc.meta, "cluster": verdict[1], "cluster_size": verdict[2]}
        out.append(Document(doc.id, doc.source, doc.kind, doc.text, doc.spans, meta))
    return out
