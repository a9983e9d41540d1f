"""The synthesize stage's Beam transform: input documents plus megadocs, QA and task samples.

Grouping needs a global view, so it runs over small per-document sketches gathered into
one list on one worker (about 0.5 KB per document: a few million documents; the recipe's
`grouping.max_sketch_docs` guards the limit). The plan it yields names member ids per
job; only the wanted members (ids as a side input) are joined back by id with
CoGroupByKey, and each job is built on a
worker that holds the tokenizer and the generator client.
"""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam

from longweave.pipeline.transforms.docio import ReadSelected
from longweave.pipeline.transforms.stage import (
    CREATED,
    DOCUMENTS,
    DROPS,
    passthrough,
    split_kept_and_dropped,
)
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.synth.build import SampleFactory
from longweave.synth.grouping import Sketch, group_documents, make_sketch, sketch_families
from longweave.synth.plan import Job, plan_jobs


def plan_from_sketches(sketches: list[Sketch], config: SynthesizeConfig, seed: int,
                       buckets: list[int]) -> list[Job]:
    ordered = sorted(sketches, key=lambda s: s.doc_id)
    return plan_jobs(ordered, group_documents(ordered, config.grouping, seed), config, seed,
                     buckets)


def wanted_by(job: Job) -> Iterator[tuple[str, str]]:
    for member in sorted(set(job.member_ids)):
        yield member, job.job_id


def route_member(item: tuple[str, dict]) -> Iterator[tuple[str, Document]]:
    """A document goes to every job that wants it (once per job)."""
    _, grouped = item
    docs = list(grouped["doc"])
    for job_id in sorted(set(grouped["want"])):
        for doc in docs[:1]:
            yield job_id, doc


class BuildSample(beam.DoFn):
    """Builds one job's sample; the tokenizer loads in setup, once per worker."""

    def __init__(self, config: SynthesizeConfig, seed: int, tokenizer_path: str | None) -> None:
        self.config = config
        self.seed = seed
        self.tokenizer_path = tokenizer_path
        self.factory: SampleFactory | None = None

    def setup(self) -> None:
        self.factory = SampleFactory(self.config, self.seed, self.tokenizer_path)
        self.factory.meter.count("warm up")  # loads tokenizer.json now, not mid-bundle

    def process(self, item: tuple[str, dict]) -> Iterator[Document | Drop]:
        _, grouped = item
        for job in list(grouped["job"])[:1]:
            docs = sorted(grouped["doc"], key=lambda d: d.id)
            yield self.factory.build(job, docs)


def is_wanted(doc_id: str, members: dict[str, bool]) -> bool:
    return doc_id in members


class Synthesize(beam.PTransform):
    """`source_dir`: the stage folder the input documents were read from. The members a
    job wants are then read again from it, by id, once the plan exists; without it (a test
    on `beam.Create`) they are filtered from the input, which the runner must buffer until
    the plan is made."""

    def __init__(self, config: SynthesizeConfig, seed: int, tokenizer_path: str | None,
                 buckets: list[int], source_dir: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.seed = seed
        self.tokenizer_path = tokenizer_path
        self.buckets = buckets
        self.source_dir = source_dir

    def expand(self, docs: beam.PCollection) -> dict:
        if not self.config.active:
            return passthrough(docs)
        config, seed, buckets = self.config, self.seed, list(self.buckets)
        jobs = (
            docs
            | "Sketch" >> beam.Map(make_sketch, config.grouping, sketch_families(config))
            | "GatherSketches" >> beam.combiners.ToList()
            | "Plan" >> beam.FlatMap(plan_from_sketches, config, seed, buckets)
        )
        wants = jobs | "MembersWanted" >> beam.FlatMap(wanted_by)
        # only the members a job wants cross the join; the ids travel as a side input
        wanted_ids = beam.pvalue.AsDict(
            wants | "WantedIds" >> beam.Map(lambda w: w[0]) | "OnceEach" >> beam.Distinct()
            | "AsKeys" >> beam.Map(lambda doc_id: (doc_id, True)))
        if self.source_dir is not None:
            member_docs = docs.pipeline | "ReadMembers" >> ReadSelected(
                self.source_dir, is_wanted, members=wanted_ids)
        else:
            member_docs = docs | "OnlyMembers" >> beam.Filter(
                lambda d, members: is_wanted(d.id, members), wanted_ids)
        keyed_docs = member_docs | "KeyDocsById" >> beam.Map(lambda d: (d.id, d))
        members = (
            {"doc": keyed_docs, "want": wants}
            | "JoinMembers" >> beam.CoGroupByKey()
            | "RouteMembers" >> beam.FlatMap(route_member)
        )
        keyed_jobs = jobs | "KeyJobs" >> beam.Map(lambda j: (j.job_id, j))
        built = (
            {"job": keyed_jobs, "doc": members}
            | "JoinJobs" >> beam.CoGroupByKey()
            | "Build" >> beam.ParDo(BuildSample(config, seed, self.tokenizer_path))
        )
        out = split_kept_and_dropped(built, "Synth")
        # the inputs pass on, and the samples are written beside them (no Flatten)
        # every job is one created record: a sample, or a drop saying why it failed
        return {DOCUMENTS: [docs, out[DOCUMENTS]], DROPS: out[DROPS], CREATED: built}
