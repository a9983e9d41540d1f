"""Grounded QA: a question whose answer needs a related, far-away part of the same row.

The context is built like paraphrase QA (rows under "Document n:" headings, fitted to the
bucket); the job's family finds its questions in each row of the context that has the
trait it needs; the one whose farthest evidence lies nearest the planned depth is asked.
The family's checker re-derives the answer from the row before the sample exists. With a
model (backend 'openai', family routed), the model rewrites question and answer, and an
answer that does not quote every evidence span verbatim is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from longweave.schemas.document import Document, Span, make_document_id
from longweave.schemas.meta import ParaphraseQaMeta
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.schemas.seeded import keyed_rng, stable_hash
from longweave.schemas.spans import evidence_label
from longweave.synth.families import FAMILIES, Family, Grounded, traits
from longweave.synth.families.base import unit_starts, window
from longweave.synth.generators.base import GenerationError, Generator, Usage
from longweave.synth.paraphrase import build_context
from longweave.synth.plan import Job
from longweave.synth.render import (
    CHAT_TEMPLATE,
    DistanceMeter,
    length_meta,
    links_meta,
    render_chat,
)
from longweave.synth.textutil import LengthMeter

RESERVE_TOKENS = 900  # question, a multi-quote answer and chat markup
CANDIDATES = 24  # nearest-depth candidates tried before the job is a Drop
WINDOW_TRIES = 3  # windows of a long row tried before the job is a Drop
MEMO_ROWS = 32  # whole-row question lists a builder keeps
FIT = 0.9  # a question's span may take this share of the room (fitting cuts a little more)


@dataclass
class Candidate:
    grounded: Grounded  # offsets in the context
    local: Grounded  # offsets in the row
    row: Document


def _cut(starts: list[int], want: float, latest: int, earliest: float) -> int | None:
    """The unit start nearest `want` in [earliest, latest]: the window keeps everything from
    `latest` on and reaches past the question's last point; None when no unit start fits."""
    fitting = [p for p in starts if earliest <= p <= latest]
    return min(fitting, key=lambda p: (abs(p - want), p)) if fitting else None


def quotes_of(text: str, evidence: list[tuple[int, int]]) -> list[str]:
    return [text[a:b] for a, b in evidence]


def supports(answer: str, quotes: list[str]) -> bool:
    """A model answer holds the reference evidence: every evidence span, verbatim."""
    return all(q in answer for q in quotes)


@dataclass
class GroundedBuilder:
    """Builds one grounded sample per job; failures propagate as GenerationError."""

    config: SynthesizeConfig
    meter: LengthMeter
    generator: Generator
    seed: int
    memo: dict[tuple[str, str, int], list[Grounded]] = field(default_factory=dict)

    def whole_row(self, family: Family, row: Document) -> list[Grounded]:
        """The family's questions over a whole row, remembered across the jobs of one
        worker (several jobs often share a long row); bounded, oldest out first."""
        key = (family.name, row.id, len(row.text))
        if key not in self.memo:
            while len(self.memo) >= MEMO_ROWS:
                self.memo.pop(next(iter(self.memo)))
            self.memo[key] = family.find(row, len(row.text))
        return self.memo[key]

    def build(self, job: Job, docs: list[Document]) -> Document:
        family = FAMILIES[job.method]
        for attempt in range(WINDOW_TRIES):
            # each attempt leads with another member, so a row the fitted context would cut
            # behind a long first member gets its turn to be whole
            lead = attempt % len(docs)
            rows = [self._window(job, family, d, attempt) for d in docs[lead:] + docs[:lead]]
            try:
                return self._build(job, family, rows)
            except GenerationError as error:
                if error.kind != "no-evidence" or attempt == WINDOW_TRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _window(self, job: Job, family: Family, row: Document, attempt: int) -> Document:
        """A row longer than the context, cut at a file, chapter or turn boundary so that a
        question of the family fits whole and its evidence lands near the planned depth.

        Without this, a long row would only ever show its first files or chapters, and
        the depth would follow where questions happen to sit in them.
        """
        if family.needs not in traits(row):
            return row
        room = self.meter.chars_for(job.bucket - RESERVE_TOKENS, row.text[:20_000])
        if len(row.text) <= room:
            return row
        if family.tail:
            return window(row, len(row.text) - room)
        starts = unit_starts(row)
        depth = job.depth or 0.0
        best: tuple[float, str, int] | None = None
        for g in self.whole_row(family, row):
            lo, hi = g.extent
            cut = _cut(starts, g.anchor - depth * room, lo, hi - FIT * room)
            if cut is None:
                continue
            miss = abs((g.anchor - cut) / room - depth)
            key = stable_hash(self.seed, job.job_id, attempt, g.question)
            if best is None or (round(miss, 2), key) < best[:2]:
                best = (round(miss, 2), key, cut)
        if best is None:
            unit = keyed_rng(self.seed, "window", job.job_id, attempt).random()
            return window(row, int(unit * (len(row.text) - room)))
        return window(row, best[2])

    def _build(self, job: Job, family: Family, docs: list[Document]) -> Document:
        context, ranges = build_context(docs, self.meter, job.bucket - RESERVE_TOKENS)
        found: list[tuple[float, str, Candidate]] = []
        target = (job.depth or 0.0) * len(context)
        for start, end, row in ranges:
            if family.needs not in traits(row):
                continue
            for local in family.find(row, end - start):
                g = local.shifted(start)
                key = stable_hash(self.seed, job.job_id, g.question)
                found.append((abs(g.anchor - target), key, Candidate(g, local, row)))
        found.sort(key=lambda c: (c[0], c[1]))
        for _, _, cand in found[:CANDIDATES]:
            problems = family.check(cand.row, cand.local)
            if problems:
                continue  # the checker disagrees with the finder: never ask it
            if quotes_of(context, cand.grounded.evidence) != quotes_of(cand.row.text,
                                                                       cand.local.evidence):
                raise GenerationError("unverified", "evidence moved inside the context")
            return self._render(job, [d.id for _, _, d in ranges], context, cand)
        raise GenerationError("no-evidence", f"no checked {job.method} question in the context")

    def _routed(self, family: str) -> bool:
        wanted = self.config.paraphrase.model_families
        return self.generator.paraphrases and (wanted is None or family in wanted)

    def _render(self, job: Job, member_ids: list[str], context: str, cand: Candidate
                ) -> Document:
        g, row = cand.grounded, cand.row
        quotes = quotes_of(context, g.evidence)
        question, answer, usage = g.question, g.answer, Usage()
        if self._routed(g.family):
            qa = self.generator.restate(g.question, g.answer, quotes, f"{job.job_id}:{g.family}")
            usage = qa.usage
            if not supports(qa.answer, quotes):
                raise GenerationError("unsupported-answer",
                                      "the model's answer does not quote the reference evidence")
            question, answer = qa.question, qa.answer
        user = f"{context}\nQuestion: {question}"
        chat = render_chat(user, answer)
        tokens = self.meter.count(chat.text)
        if tokens > job.bucket:
            raise GenerationError("over-length", f"{tokens} tokens > bucket {job.bucket}")
        offset = chat.user_body_start
        spans = [Span(offset + a, offset + b, evidence_label(row.id)) for a, b in g.evidence]
        question_start = offset + len(context) + 1
        meter = DistanceMeter(self.meter, chat.text)
        links = [meter.link(s.start, s.end, question_start) for s in spans]
        quote_at = answer.find(f'"{quotes[0]}"')
        first = spans[0]
        meta: ParaphraseQaMeta = {
            "method": g.family, "family": g.family, "job_id": job.job_id,
            "member_ids": member_ids,
            "target_depth": job.depth, "depth": g.anchor / max(1, len(context)),
            "evidence": {"doc_id": row.id, "start": first.start, "end": first.end,
                         "quote_start": chat.answer_start + quote_at + 1 if quote_at >= 0
                         else None, "cue": None},
            "evidence_spans": [{"doc_id": row.id, "start": s.start, "end": s.end}
                               for s in spans],
            "subject": {"doc_id": row.id, "name": g.subject_name,
                        **({"start": offset + g.subject[0], "end": offset + g.subject[1]}
                           if g.subject else {})},
            "facts": g.facts,
            "questions": links, **links_meta(links), "template": CHAT_TEMPLATE,
            "messages": chat.messages, "generator": self.generator.describe(),
            "paraphrased": answer != g.answer, "usage": usage.to_meta(),
            "length": length_meta(self.meter, chat.text, job.bucket),
        }
        if answer != g.answer:
            meta["reference_answer"] = g.answer
        return Document(id=make_document_id(self.config.source, f"grounded:{job.job_id}"),
                        source=self.config.source, kind="paraphrase_qa", text=chat.text,
                        spans=sorted([*chat.spans, *spans]), meta=meta)
