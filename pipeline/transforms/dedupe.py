"""The dedupe stage's Beam transform: exact duplicates, repeated files, then MinHash LSH.

Only wiring: every decision is a plain function in filters/ (exact.py, near_dedup.py,
components.py) that the unit tests call directly. Everything is keyed and shuffled by
Beam; no step collects the corpus on one worker. Near-dedup: sketch per document -> one
key per LSH band -> star edges per bucket (salted into sub-buckets when `band_salts > 1`,
so a hot bucket spreads over workers) -> optional exact-Jaccard check -> unrolled
large-star/small-star rounds -> a finish that union-finds only the edges of components not
yet stars (none once converged) -> keep policy per component -> verdicts joined back by id.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import numpy as np

from longweave.filters import components as cc
from longweave.filters import near_dedup
from longweave.filters.exact import (
    copies_to_cut,
    cut_files,
    file_copies,
    normalised_text_hash,
    resolve_exact_group,
)
from longweave.filters.minhash import MinHashParams
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS
from longweave.schemas.document import Document
from longweave.schemas.layout import CLUSTERS_DIR as CLUSTERS
from longweave.schemas.layout import COMPONENTS_DIR as COMPONENTS
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_filters import DedupeConfig

_VERDICTS = "verdicts"


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
            | "Fingerprints" >> beam.FlatMap(file_copies)
            | "GroupFiles" >> beam.GroupByKey()
            | "CopiesToCut" >> beam.FlatMap(lambda kv: copies_to_cut(kv[1]))
        )
        resolved = ({"doc": keyed, "cut": removals} | "JoinCuts" >> beam.CoGroupByKey()
                    | "CutFiles" >> beam.FlatMap(lambda kv: cut_files(kv[1]["doc"],
                                                                      kv[1]["cut"])))
        routed = resolved | "RouteFiles" >> beam.Map(_route).with_outputs(DOCUMENTS, DROPS)
        return routed[DOCUMENTS], routed[DROPS]


class _Sketch(beam.DoFn):
    """Document -> NearSketch (candidate, band keys, shingle set when verifying)."""

    def __init__(self, params: MinHashParams, verify: bool) -> None:
        self.params, self.verify = params, verify
        self._perms: tuple[np.ndarray, np.ndarray] | None = None

    def setup(self) -> None:
        self._perms = self.params.band_permutations()

    def process(self, doc: Document):
        sketch = near_dedup.sketch_document(doc, self.params, self._perms, self.verify)
        if sketch is not None:
            yield sketch


class _NearDedupe(beam.PTransform):
    """Documents -> {"documents", "drops", "clusters", "components"} of MinHash LSH."""

    def __init__(self, params: MinHashParams, config: DedupeConfig) -> None:
        super().__init__()
        self.params, self.config = params, config

    def expand(self, docs: beam.PCollection) -> dict:
        config = self.config
        sketches = (docs
                    | "Eligible" >> beam.Filter(near_dedup.eligible, frozenset(config.kinds))
                    | "Sketch" >> beam.ParDo(_Sketch(self.params, config.verify)))
        edges = sketches | "Candidates" >> _CandidatePairs(config.band_salts)
        if config.verify:
            edges = (edges, sketches) | "Verify" >> _VerifyPairs(self.params.threshold)
        found = edges | "Components" >> ConnectedComponents(config.cc_rounds)
        candidates = sketches | "CandidateById" >> beam.Map(
            lambda s: (s.candidate.id, s.candidate))
        decisions = (
            {"label": found["labels"], "candidate": candidates}
            | "JoinLabels" >> beam.CoGroupByKey()
            | "ByComponent" >> beam.FlatMap(
                lambda kv: near_dedup.label_members(kv[1]["label"], kv[1]["candidate"]))
            | "GroupComponents" >> beam.GroupByKey()
            | "KeepPolicy" >> beam.FlatMap(lambda kv: _tagged(
                *near_dedup.component_decisions(*kv))).with_outputs(CLUSTERS, _VERDICTS)
        )
        keyed = docs | "DocById" >> beam.Map(lambda d: (d.id, d))
        verdicts = decisions[_VERDICTS] | "VerdictById" >> beam.Map(lambda v: (v.doc_id, v))
        applied = ({"doc": keyed, "verdict": verdicts}
                   | "JoinVerdicts" >> beam.CoGroupByKey()
                   | "ApplyVerdicts" >> beam.FlatMap(
                       lambda kv: near_dedup.apply_verdict(kv[1]["doc"], kv[1]["verdict"]))
                   | "RouteNear" >> beam.Map(_route).with_outputs(DOCUMENTS, DROPS))
        return {DOCUMENTS: applied[DOCUMENTS], DROPS: applied[DROPS],
                CLUSTERS: decisions[CLUSTERS], COMPONENTS: found["stats"]}


def _tagged(record: dict[str, Any], verdicts: list[near_dedup.Verdict]
            ) -> list[beam.pvalue.TaggedOutput]:
    """One component's record and verdicts leave the keep policy on their own outputs."""
    return [beam.pvalue.TaggedOutput(CLUSTERS, record),
            *(beam.pvalue.TaggedOutput(_VERDICTS, v) for v in verdicts)]


class _CandidatePairs(beam.PTransform):
    """NearSketches -> distinct `(high, low)` candidate edges: a star per LSH bucket."""

    def __init__(self, salts: int) -> None:
        super().__init__()
        self.salts = salts

    def expand(self, sketches: beam.PCollection) -> beam.PCollection:
        buckets = (sketches
                   | "BandKeys" >> beam.FlatMap(near_dedup.bucket_entries, self.salts)
                   | "GroupBuckets" >> beam.GroupByKey())
        edges = buckets | "BucketStars" >> beam.FlatMap(lambda kv: near_dedup.bucket_star(kv[1]))
        if self.salts > 1:
            heads = (buckets
                     | "BucketHeads" >> beam.MapTuple(near_dedup.bucket_head)
                     | "GroupHeads" >> beam.GroupByKey()
                     | "HeadStars" >> beam.FlatMap(lambda kv: near_dedup.bucket_star(kv[1])))
            edges = (edges, heads) | "AllStars" >> beam.Flatten()
        return edges | "DistinctEdges" >> beam.Distinct()


class _VerifyPairs(beam.PTransform):
    """(edges, sketches) -> the edges whose exact Jaccard reaches the threshold."""

    def __init__(self, threshold: float) -> None:
        super().__init__()
        self.threshold = threshold

    def expand(self, inputs: tuple[beam.PCollection, beam.PCollection]) -> beam.PCollection:
        edges, sketches = inputs
        threshold = self.threshold  # the lambdas below must not pickle the transform
        sets = sketches | "ShinglesById" >> beam.Map(lambda s: (s.candidate.id, s.shingles))
        pending = ({"edge": edges, "set": sets} | "JoinHigh" >> beam.CoGroupByKey()
                   | "CarryHigh" >> beam.FlatMap(lambda kv: near_dedup.carry_high_set(
                       kv[0], kv[1]["edge"], kv[1]["set"])))
        return ({"pending": pending, "set": sets} | "JoinLow" >> beam.CoGroupByKey()
                | "CheckJaccard" >> beam.FlatMap(lambda kv: near_dedup.verified_edges(
                    kv[0], kv[1]["pending"], kv[1]["set"], threshold)))


class ConnectedComponents(beam.PTransform):
    """Edges -> {"labels": (node, component label) per node on an edge, "stats": one
    `components_record`}."""

    def __init__(self, rounds: int) -> None:
        super().__init__()
        self.rounds = rounds

    def expand(self, edges: beam.PCollection) -> dict[str, beam.PCollection]:
        rounds = self.rounds
        for r in range(rounds):
            edges = (edges
                     | f"LargeOut{r}" >> beam.FlatMap(cc.both_directions)
                     | f"LargeGroup{r}" >> beam.GroupByKey()
                     | f"LargeStar{r}" >> beam.FlatMapTuple(cc.large_star)
                     | f"SmallGroup{r}" >> beam.GroupByKey()
                     | f"SmallStar{r}" >> beam.FlatMapTuple(cc.small_star))
        ups = edges | "Ups" >> beam.Map(lambda e: (e[0], e[1]))
        downs = edges | "Downs" >> beam.Map(lambda e: (e[1], e[0]))
        views = ({"up": ups, "down": downs} | "NodeNeighbours" >> beam.CoGroupByKey()
                 | "NodeView" >> beam.Map(lambda kv: (kv[0], cc.node_view(
                     kv[0], kv[1]["up"], kv[1]["down"]))))
        residual = (views
                    | "BrokenEdges" >> beam.FlatMap(lambda kv: kv[1][1])
                    | "DistinctResidual" >> beam.Distinct())
        fixed = (residual
                 | "OneKey" >> beam.Map(lambda e: (None, e))
                 | "GroupResidual" >> beam.GroupByKey()
                 | "UnionFind" >> beam.FlatMap(lambda kv: cc.union_find(kv[1]).items()))
        labels = views | "Label" >> beam.Map(
            lambda kv, fix: (kv[0], cc.final_label(kv[0], kv[1][0], fix)),
            fix=beam.pvalue.AsDict(fixed))
        n_edges = edges | "CountEdges" >> beam.combiners.Count.Globally()
        n_residual = residual | "CountResidual" >> beam.combiners.Count.Globally()
        stats = n_edges | "Stats" >> beam.Map(
            lambda n, res: cc.components_record(rounds, n, res),
            res=beam.pvalue.AsSingleton(n_residual))
        return {"labels": labels, "stats": stats}
