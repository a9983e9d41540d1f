"""Paraphrase-retrieval QA: several documents as context, a question about a passage at a
chosen depth, and an answer that first quotes (or paraphrases) the evidence, then answers.

The depth comes from the plan (stratified over samples, so uniform over depth); the
passage chosen is the usable one nearest to it, and the realised depth is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from longweave.schemas.document import Document, Span, make_document_id
from longweave.schemas.meta import ParaphraseQaMeta
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.schemas.spans import evidence_label
from longweave.synth.generators.base import GenerationError, Generator
from longweave.synth.plan import Job
from longweave.synth.render import (
    CHAT_TEMPLATE,
    DistanceMeter,
    length_meta,
    links_meta,
    render_chat,
)
from longweave.synth.textutil import LengthMeter, doc_title, fit_to_tokens, passages

ANSWER_RESERVE_TOKENS = 400  # question, answer and chat markup
CANDIDATES = 24


def build_context(docs: list[Document], meter: LengthMeter, max_tokens: int
                  ) -> tuple[str, list[tuple[int, int, Document]]]:
    """Documents under headings, cut to `max_tokens`; returns text and each body's range."""
    pieces, ranges, length = [], [], 0
    for n, doc in enumerate(docs, 1):
        head = f"Document {n}: {doc_title(doc)}\n"
        pieces.append(head)
        length += len(head)
        ranges.append((length, length + len(doc.text), doc))
        pieces.append(doc.text + "\n\n")
        length += len(doc.text) + 2
    full = "".join(pieces)
    context = fit_to_tokens(full, meter, max_tokens)
    kept = [(a, min(b, len(context)), d) for a, b, d in ranges if a < len(context)]
    return context, kept


@dataclass
class ParaphraseBuilder:
    """Builds one quote-then-answer sample per job; generator failures propagate."""

    config: SynthesizeConfig
    meter: LengthMeter
    generator: Generator
    seed: int

    def build(self, job: Job, docs: list[Document]) -> Document:
        cfg = self.config.paraphrase
        context, ranges = build_context(docs, self.meter, job.bucket - ANSWER_RESERVE_TOKENS)
        target = (job.depth or 0.0) * len(context)
        candidates = []
        for start, end, doc in ranges:
            for p in passages(context[start:end], cfg.passage_min_chars, cfg.passage_max_chars):
                candidates.append((abs(start + p.start - target), start + p.start,
                                   start + p.end, doc))
        candidates.sort(key=lambda c: (c[0], c[1]))
        for _, ev_start, ev_end, doc in candidates[:CANDIDATES]:
            evidence = context[ev_start:ev_end]
            try:
                qa = self.generator.question(evidence, doc_title(doc),
                                             f"{job.job_id}:{ev_start}")
            except GenerationError as error:
                if error.kind == "no-question":
                    continue
                raise
            if qa.cue is not None and context.count(qa.cue) != 1:
                continue  # an ambiguous cue would make the question unanswerable
            return self._render(job, [d.id for _, _, d in ranges], context, ev_start, ev_end, doc, qa)
        raise GenerationError("no-evidence", "no passage near the target depth gave a question")

    def _render(self, job: Job, member_ids: list[str], context: str, ev_start: int, ev_end: int,
                doc: Document, qa) -> Document:  # noqa: ANN001 - QuestionAnswer
        evidence = context[ev_start:ev_end]
        paraphrased = self.config.paraphrase.answer == "paraphrase" and qa.paraphrase
        question = (f"Question: {qa.question}\nFirst "
                    f"{'restate in your own words' if paraphrased else 'quote'} the passage "
                    "that answers it, then answer.")
        user = f"{context}\n{question}"
        if paraphrased:
            answer = f"The relevant passage says, in other words: {qa.paraphrase}\n{qa.answer}"
        else:
            answer = f"The relevant passage reads: \"{evidence}\"\n{qa.answer}"
        chat = render_chat(user, answer)
        offset = chat.user_body_start
        ev = Span(offset + ev_start, offset + ev_end, evidence_label(doc.id))
        question_start = offset + len(context) + 1
        link = DistanceMeter(self.meter, chat.text).link(ev.start, ev.end, question_start)
        quote_start = None if paraphrased else chat.answer_start + answer.index('"') + 1
        meta: ParaphraseQaMeta = {
            "method": "paraphrase" if paraphrased else "quote", "family": job.method,
            "job_id": job.job_id,
            "member_ids": member_ids,
            "target_depth": job.depth, "depth": ev_start / max(1, len(context)),
            "evidence": {"doc_id": doc.id, "start": ev.start, "end": ev.end,
                         "quote_start": quote_start, "cue": qa.cue},
            "evidence_spans": [{"doc_id": doc.id, "start": ev.start, "end": ev.end}],
            "questions": [link], **links_meta([link]), "template": CHAT_TEMPLATE,
            "messages": chat.messages,
            "generator": self.generator.describe(), "paraphrased": bool(paraphrased),
            "usage": qa.usage.to_meta(), "length": length_meta(self.meter, chat.text, job.bucket),
        }
        if not self.generator.paraphrases:
            meta["note"] = "offline generator: extractive question, evidence quoted verbatim"
        return Document(id=make_document_id(self.config.source, f"paraphrase:{job.job_id}"),
                        source=self.config.source, kind="paraphrase_qa", text=chat.text,
                        spans=sorted([*chat.spans, ev]), meta=meta)
