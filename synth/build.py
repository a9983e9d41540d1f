"""One entry point per job, with verification: a sample is whole and checked, or a Drop.

`SampleFactory` is what the Beam DoFn holds; `synthesize_all` is the same flow without
Beam (sketch, group, plan, build) for tests and small local runs.
"""

from __future__ import annotations

from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.schemas.spans import EVIDENCE, PART, XREF, label_value, part_number
from longweave.synth.families import FAMILIES
from longweave.synth.generators import GenerationError, Generator, make_generator
from longweave.synth.grounded import GroundedBuilder
from longweave.synth.grouping import group_documents, make_sketch, sketch_families
from longweave.synth.megadocs import MegadocBuilder
from longweave.synth.paraphrase import ParaphraseBuilder
from longweave.synth.plan import Job, plan_jobs
from longweave.synth.tasks import TaskBuilder
from longweave.synth.textutil import LengthMeter


def verify_sample(doc: Document) -> list[str]:
    """Problems with a sample's claimed dependencies; empty when everything checks out."""
    problems = []
    parts = {part_number(s.label): s for s in doc.spans_with_prefix(PART)}
    for span in doc.spans_with_prefix(XREF):
        target = int(label_value(span.label, XREF))
        here = next((n for n, p in parts.items() if p.start <= span.start < p.end), None)
        if target not in parts or here is None or target >= here:
            problems.append(f"cross-reference at {span.start} points to part {target} "
                            f"from part {here}")
    members = set(doc.meta.get("member_ids", []))
    for span in doc.spans_with_prefix(EVIDENCE):
        if label_value(span.label, EVIDENCE) not in members:
            problems.append(f"evidence span {span.label} names no member document")
        if span.end <= span.start:
            problems.append(f"empty evidence span at {span.start}")
    quote_start = (doc.meta.get("evidence") or {}).get("quote_start")
    if quote_start is not None:
        ev = doc.meta["evidence"]
        quoted = doc.text[quote_start:quote_start + ev["end"] - ev["start"]]
        if quoted != doc.text[ev["start"]:ev["end"]]:
            problems.append("answer quote differs from the evidence")
    for link in doc.meta.get("questions", []):
        if link["distance_chars"] < 0:
            problems.append(f"question at {link['question_start']} precedes its evidence")
    return problems


class SampleFactory:
    """Builds the sample of a job; the tokenizer and HTTP client load lazily on a worker."""

    def __init__(self, config: SynthesizeConfig, seed: int, tokenizer_path: str | None,
                 generator: Generator | None = None) -> None:
        self.config = config
        self.seed = seed
        self.meter = LengthMeter(tokenizer_path, config.chars_per_token)
        self.generator = generator or make_generator(config.generator, seed)
        self.grounded = GroundedBuilder(config, self.meter, self.generator, seed)

    def build(self, job: Job, docs: list[Document]) -> Document | Drop:
        by_id = {d.id: d for d in docs}
        members = [by_id[i] for i in job.member_ids if i in by_id]
        try:
            if len(members) != len(job.member_ids):
                raise GenerationError("missing-member", "a member document did not arrive")
            if job.kind == "megadoc":
                sample = MegadocBuilder(self.config, self.meter, self.generator,
                                        self.seed).build(job, members)
            elif job.kind == "paraphrase_qa" and job.method in FAMILIES:
                sample = self.grounded.build(job, members)
            elif job.kind == "paraphrase_qa":
                sample = ParaphraseBuilder(self.config, self.meter, self.generator,
                                           self.seed).build(job, members)
            else:
                sample = TaskBuilder(self.config, self.meter, self.seed).build(job, members)
            problems = verify_sample(sample)
            if problems:
                raise GenerationError("unverified", "; ".join(problems[:3]))
        except GenerationError as error:
            return self._failed(job, error.kind, error)
        except Exception as error:  # noqa: BLE001 - one odd sample never ends the job
            return self._failed(job, type(error).__name__, error)
        return sample

    def _failed(self, job: Job, kind: str, error: Exception) -> Drop:
        """The ledger entry for a sample that was planned but could not be built."""
        return Drop(doc_id=f"{job.kind}:{job.job_id}", source=self.config.source,
                    reason=f"synth-failed:{kind}", detail=str(error)[:500])


def synthesize_all(docs: list[Document], config: SynthesizeConfig, seed: int,
                   tokenizer_path: str | None, buckets: list[int],
                   generator: Generator | None = None) -> list[Document | Drop]:
    """The whole stage in memory: new samples and drops, in plan order."""
    if not config.active:
        return []
    families = sketch_families(config)
    sketches = [make_sketch(d, config.grouping, families) for d in docs]
    groups = group_documents(sketches, config.grouping, seed)
    jobs = plan_jobs(sketches, groups, config, seed, buckets)
    factory = SampleFactory(config, seed, tokenizer_path, generator)
    by_id = {d.id: d for d in docs}
    return [factory.build(job, [by_id[i] for i in job.member_ids]) for job in jobs]
