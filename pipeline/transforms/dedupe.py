"""The dedupe stage's Beam transform: exact duplicates, repeated files, then MinHash LSH.

Only wiring: every decision is a plain function in filters/ (exact.py, near_dedup.py,
components.py) that the unit tests call directly. No text crosses a shuffle: each step
that needs the documents reads them in a streaming pass (from `source_dir`, the upstream
stage's folder, when the stage runs from files; else from the input PCollection) and the
decisions meet them as side inputs of small records, so the DirectRunner's driver, which
holds every shuffled PCollection, never holds the corpus.

    read 1 (the input)   exact key per document -> groups of candidates -> exact drops;
                         band keys (a bundle at a time; with `verify` the shingle sets
                         spilled to `scratch_dir`), exact drops taken out of them
    (file_level)         read 2: file fingerprints of exact survivors -> cuts per
                         document; read 3: band keys of the documents with cuts applied
    small records        band keys as a block per shuffle partition and bundle -> candidate
                         edges per LSH bucket (salted when `band_salts > 1`)
                         -> set references meet at each pair's low end, which reads the
                         two sets back for the exact Jaccard -> unrolled large-star /
                         small-star rounds and a union-find finish -> keep policy per
                         component -> verdicts
    last read            the documents not dropped, with cuts and verdicts applied
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.transforms.window import GlobalWindows

from longweave.filters import components as cc
from longweave.filters import near_dedup
from longweave.filters.exact import (
    Candidate,
    copies_to_cut,
    exact_key,
    file_copies,
    resolve_exact_candidates,
)
from longweave.filters.minhash import MinHashParams
from longweave.pipeline.transforms.docio import ReadSelected
from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS
from longweave.schemas import fs
from longweave.schemas.document import Document
from longweave.schemas.layout import CLUSTERS_DIR as CLUSTERS
from longweave.schemas.layout import COMPONENTS_DIR as COMPONENTS
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_filters import DedupeConfig

_VERDICTS = "verdicts"
_EXACT_KEYS = "exact_keys"
_BATCH_CHARS = 4_000_000  # characters sketched together: bounds a batch's shingle arrays
_BATCH_DOCS = 512
_BLOCK_DOCS = 8192  # documents whose band keys leave in one set of blocks


def _route(item: Any) -> beam.pvalue.TaggedOutput:
    tag = DOCUMENTS if isinstance(item, Document) else DROPS if isinstance(item, Drop) \
        else CLUSTERS
    return beam.pvalue.TaggedOutput(tag, item)


def params_of(config: DedupeConfig, seed: int = 0) -> MinHashParams:
    """The MinHash settings of a dedupe config (banding from threshold and verify unless
    the recipe names bands and rows)."""
    return MinHashParams.create(config.shingle, config.ngram, config.num_perm,
                                config.threshold, config.bands, config.rows, seed,
                                verify=config.verify)


class Dedupe(beam.PTransform):
    """PCollection[Document] -> {"documents", "drops", "clusters", "components"}.

    `source_dir`: the stage folder the input was read from; each pass re-reads it instead
    of keeping the input (without it, tests on `beam.Create`, the input is reused).
    `scratch_dir`: a folder every worker can read and write (the caller removes it), where
    the sketching workers spill shingle sets for the pair check; without it the sets travel
    in the sketches (fine for small inputs, but then they cross the shuffles).
    """

    def __init__(self, config: DedupeConfig, seed: int = 0,
                 source_dir: str | None = None, scratch_dir: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.params = params_of(config, seed)
        self.source_dir, self.scratch_dir = source_dir, scratch_dir

    def expand(self, docs: beam.PCollection) -> dict:
        config, pipeline = self.config, docs.pipeline

        def reread(name: str, wanted: Callable[..., bool] | None = None,
                   **side: Any) -> beam.PCollection:
            """The documents again for one pass: from the stage files only the rows whose
            id `wanted(id, **side)` accepts (the rest never become Python objects), or the
            input itself (its pass then filters on its own)."""
            if self.source_dir is None:  # (a test's small input: a shuffle of documents
                # makes the pass its own stage, which the runner needs to schedule a main
                # input that is also upstream of its side inputs)
                return docs | f"Again{name}" >> beam.Reshuffle()
            return pipeline | f"Read{name}" >> ReadSelected(self.source_dir, wanted, **side)

        none = pipeline | "NoRecords" >> beam.Create([])
        drops, clusters, components = [], [], None
        side: dict[str, beam.pvalue.AsSideInput] = {
            "exact_dropped": beam.pvalue.AsDict(none), "cuts": beam.pvalue.AsDict(none)}
        kinds = frozenset(config.kinds)
        # one pass gives each document's exact key and shingles (word shingles from the
        # exact key's own fold), unless file cuts must come between the two
        together = config.exact and config.near and not config.file_level
        if together:
            first = docs | "Fingerprint" >> beam.ParDo(_Sketch(
                self.params, config.verify, self.scratch_dir, kinds, exact=True)
            ).with_outputs(_EXACT_KEYS, main="sketches")
            exact_keys, sketches = first[_EXACT_KEYS], first.sketches
        elif config.exact:
            exact_keys = docs | "KeyByTextHash" >> beam.Map(exact_key)
        if config.exact:  # groups of (hash, candidate): the text stays where it was read
            exact = (exact_keys
                     | "GroupByTextHash" >> beam.GroupByKey()
                     | "DecideGroups" >> beam.FlatMapTuple(resolve_exact_candidates)
                     | "RouteExact" >> beam.Map(_route).with_outputs(DROPS, CLUSTERS))
            drops.append(exact[DROPS])
            clusters.append(exact[CLUSTERS])
            side["exact_dropped"] = beam.pvalue.AsDict(
                exact[DROPS] | "ExactDroppedIds" >> beam.Map(lambda d: (d.doc_id, True)))
        if config.file_level:
            cuts = reread("ForFiles") | "FileLevel" >> _FileCuts(side["exact_dropped"])
            side["cuts"] = beam.pvalue.AsDict(cuts)
        verdicts = none
        if config.near:
            if config.file_level:  # cut files change what is sketched: a later pass
                sketches = (reread("ForSketch")
                            | "Prepare" >> beam.FlatMap(_present(near_dedup.prepared),
                                                        side["exact_dropped"], side["cuts"])
                            | "OnlyPrepared" >> beam.Filter(lambda d: isinstance(d, Document))
                            | "Sketch" >> beam.ParDo(_Sketch(self.params, config.verify,
                                                             self.scratch_dir, kinds)))
            else:  # sketched in the input's own pass: exact drops leave on the sketches
                if not together:
                    sketches = docs | "Sketch" >> beam.ParDo(_Sketch(
                        self.params, config.verify, self.scratch_dir, kinds))
                sketches = sketches | "ExactSurvivors" >> beam.Filter(
                    lambda s, gone: s.candidate.id not in gone, side["exact_dropped"])
            near = sketches | "Near" >> _NearDedupe(self.params, config)
            drops.append(near[DROPS])
            clusters.append(near[CLUSTERS])
            components, verdicts = near[COMPONENTS], near[_VERDICTS]
        side["verdicts"] = beam.pvalue.AsDict(verdicts)
        final = (reread("ForOutput", near_dedup.not_dropped, exact_dropped=side["exact_dropped"],
                        verdicts=side["verdicts"])
                 | "Decide" >> beam.FlatMap(_present(near_dedup.final_document), **side)
                 | "RouteDecided" >> beam.Map(_route).with_outputs(DOCUMENTS, DROPS))
        drops.append(final[DROPS])
        out = {
            DOCUMENTS: final[DOCUMENTS],
            DROPS: drops | "AllDrops" >> beam.Flatten(),
            CLUSTERS: (clusters or [none]) | "AllClusters" >> beam.Flatten(),
        }
        if components is not None:
            out[COMPONENTS] = components
        return out


def _present(decide: Callable[..., Any]) -> Callable[..., list[Any]]:
    """A decision that may say None (nothing to pass on) as a FlatMap function (left
    unannotated: Beam would read `**kwargs: Any` as a type hint on the side inputs, and
    refuse them)."""
    def flat(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        found = decide(*args, **kwargs)
        return [] if found is None else [found]
    return flat


class _FileCuts(beam.PTransform):
    """Documents -> `(doc id, [(span label, keeper id)])`: repeated `file:` spans across the
    repo documents exact dedup kept; the copy in the smallest document id (then path) stays."""

    def __init__(self, exact_dropped: beam.pvalue.AsSideInput) -> None:
        super().__init__()
        self.exact_dropped = exact_dropped

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return (docs
                | "ExactSurvivors" >> beam.Filter(lambda d, gone: d.id not in gone,
                                                  gone=self.exact_dropped)
                | "Fingerprints" >> beam.FlatMap(file_copies)
                | "GroupFiles" >> beam.GroupByKey()
                | "CopiesToCut" >> beam.FlatMap(lambda kv: copies_to_cut(kv[1]))
                | "GroupCuts" >> beam.GroupByKey()
                | "SortCuts" >> beam.MapTuple(lambda doc_id, cuts: (doc_id, sorted(cuts))))


class _Sketch(beam.DoFn):
    """Documents -> NearSketch (candidate, band keys) of those of `kinds` (all when empty),
    signatures computed per batch of a bundle (short documents share numpy calls); with
    `exact`, also every document's `(exact key, candidate)` on the `exact_keys` output,
    from the same folded text its word shingles come from."""

    def __init__(self, params: MinHashParams, verify: bool, scratch_dir: str | None,
                 kinds: frozenset[str] = frozenset(), exact: bool = False) -> None:
        self.params, self.verify, self.scratch_dir = params, verify, scratch_dir
        self.kinds, self.exact = kinds, exact
        self._perms: tuple[np.ndarray, np.ndarray] | None = None
        self._candidates: list[Candidate] = []
        self._hashes: list[np.ndarray] = []
        self._chars = 0

    def setup(self) -> None:
        self._perms = self.params.band_permutations()

    def start_bundle(self) -> None:
        self._candidates, self._hashes, self._chars = [], [], 0

    def process(self, doc: Document):
        key, hashes = near_dedup.fingerprint(doc, self.params, self.kinds, self.exact)
        candidate = Candidate.of(doc)
        if key is not None:
            yield beam.pvalue.TaggedOutput(_EXACT_KEYS, (key, candidate))
        if hashes is None:
            return
        self._candidates.append(candidate)
        self._hashes.append(hashes)
        self._chars += len(doc.text)
        if self._chars >= _BATCH_CHARS or len(self._candidates) >= _BATCH_DOCS:
            yield from self._flush()

    def finish_bundle(self):
        for sketch in self._flush():
            yield GlobalWindows.windowed_value(sketch)

    def _flush(self) -> list[near_dedup.NearSketch]:
        candidates, hashes = self._candidates, self._hashes
        self._candidates, self._hashes, self._chars = [], [], 0
        if not candidates:
            return []
        found = [s for s in near_dedup.sketch_shingled(candidates, hashes, self.params,
                                                       self._perms, self.verify)
                 if s is not None]
        if self.verify and self.scratch_dir is not None:  # a fresh name per batch: a
            # retried bundle writes a new file and never touches one another batch reads
            found = near_dedup.spill_sets(found, fs.join(self.scratch_dir,
                                                         f"{uuid.uuid4().hex}.u32"))
        return found


class _NearDedupe(beam.PTransform):
    """NearSketches (exact drops and file cuts already applied) -> {"drops", "clusters",
    "components", "verdicts"} of MinHash LSH."""

    def __init__(self, params: MinHashParams, config: DedupeConfig) -> None:
        super().__init__()
        self.params, self.config = params, config

    def expand(self, sketches: beam.PCollection) -> dict:
        config = self.config
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
        verdicts = decisions[_VERDICTS] | "VerdictById" >> beam.Map(lambda v: (v.doc_id, v))
        near_drops = decisions[_VERDICTS] | "NearDrops" >> beam.FlatMap(
            lambda v: [] if v.drop is None else [v.drop])
        return {DROPS: near_drops, CLUSTERS: decisions[CLUSTERS],
                COMPONENTS: found["stats"], _VERDICTS: verdicts}


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
        salts = self.salts  # the lambdas below must not pickle the transform
        partitions = (sketches
                      | "BandBlocks" >> beam.ParDo(_BandBlocks(salts))
                      | "GroupBuckets" >> beam.GroupByKey())
        edges = partitions | "BucketStars" >> beam.FlatMap(
            lambda kv: near_dedup.block_stars(kv[1], salts))
        if salts > 1:
            heads = (partitions
                     | "BucketHeads" >> beam.FlatMap(
                         lambda kv: near_dedup.block_heads(kv[1], salts))
                     | "GroupHeads" >> beam.GroupByKey()
                     | "HeadStars" >> beam.FlatMap(lambda kv: near_dedup.bucket_star(kv[1])))
            edges = (edges, heads) | "AllStars" >> beam.Flatten()
        return edges | "DistinctEdges" >> beam.Distinct()


class _BandBlocks(beam.DoFn):
    """NearSketches -> `(partition, BucketBlock)`: the band keys of up to `_BLOCK_DOCS`
    documents of a bundle leave as one block per partition (`near_dedup.bucket_blocks`),
    so the shuffle carries a few arrays instead of an element per document and band."""

    def __init__(self, salts: int) -> None:
        self.salts = salts
        self._entries: list[tuple[str, list[tuple[int, int]]]] = []

    def start_bundle(self) -> None:
        self._entries = []

    def process(self, sketch: near_dedup.NearSketch):
        self._entries.append((sketch.candidate.id, sketch.keys))
        if len(self._entries) >= _BLOCK_DOCS:
            yield from self._flush()

    def finish_bundle(self):
        for block in self._flush():
            yield GlobalWindows.windowed_value(block)

    def _flush(self) -> list[tuple[int, near_dedup.BucketBlock]]:
        entries, self._entries = self._entries, []
        return near_dedup.bucket_blocks(entries, self.salts)


class _VerifyPairs(beam.PTransform):
    """(edges, sketches) -> the edges whose exact Jaccard reaches the threshold.

    Only small records move: the plan (which node's set is needed where) joins each
    candidate's set reference, and the check reads the sets back (from the scratch files
    when the sketches spilled them).
    """

    def __init__(self, threshold: float) -> None:
        super().__init__()
        self.threshold = threshold

    def expand(self, inputs: tuple[beam.PCollection, beam.PCollection]) -> beam.PCollection:
        edges, sketches = inputs
        threshold = self.threshold  # the lambdas below must not pickle the transform
        plan = (edges
                | "EdgeEnds" >> beam.FlatMap(near_dedup.edge_ends)
                | "GroupEnds" >> beam.GroupByKey()
                | "PlanNodes" >> beam.MapTuple(near_dedup.verification_plan))
        refs = sketches | "SetRefs" >> beam.Map(lambda s: (s.candidate.id, s.shingles))
        return ({"plan": plan, "ref": refs}
                | "JoinPlan" >> beam.CoGroupByKey()
                | "SendRefs" >> beam.FlatMapTuple(lambda node, got: near_dedup.
                                                  verification_messages(node, got["plan"],
                                                                        got["ref"]))
                | "GroupAtLow" >> beam.GroupByKey()
                | "CheckJaccard" >> beam.FlatMapTuple(
                    lambda low, messages: near_dedup.verified_edges(low, messages, threshold)))


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
