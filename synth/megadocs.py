"""Megadocs: related documents stitched to a bucket, with dependencies that can be checked.

Layout: a contents list, then `=== Part n of N: title ===` sections; cross-references
inserted where a part shares keywords with an earlier part (`xref:<part>` spans, always
pointing back); closing questions whose answers lie in earlier parts, each with an
`evidence:<doc id>` span over the verbatim passage. With a model, Kim et al.'s stitch
(K rephrasings of one document after the original) and stretch (rationales interleaved).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from longweave.schemas.document import Document, Span, make_document_id
from longweave.schemas.meta import MegadocMeta
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.schemas.seeded import keyed_rng
from longweave.schemas.spans import (
    RATIONALE,
    XREF,
    evidence_label,
    part_label,
    xref_label,
)
from longweave.synth.generators.base import GenerationError, Generator, QuestionAnswer, Usage
from longweave.synth.plan import Job
from longweave.synth.render import DistanceMeter, length_meta, links_meta
from longweave.synth.textutil import (
    LengthMeter,
    Passage,
    doc_title,
    fit_to_tokens,
    passages,
    term_counts,
)

QUESTION_TRIES = 8


@dataclass
class Part:
    """One section: its body and the text inserted into it at body offsets."""

    doc_id: str
    title: str
    body: str
    inserts: list[tuple[int, str, str]] = field(default_factory=list)  # (pos, text, label)
    quotable: bool = True  # rephrasings are not evidence: only originals are quoted


def chunk_at_lines(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Consecutive `[start, end)` pieces of at most `max_chars`, cut after a newline if any."""
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + max_chars)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        out.append((start, end))
        start = end
    return out


def shared_keywords(parts: list[Part], per_part: int = 12) -> list[list[str]]:
    """Top local TF-IDF terms per part; terms found in every part say nothing and are skipped."""
    counts = [term_counts(p.body) for p in parts]
    df = Counter(t for c in counts for t in c)
    n = len(parts)
    out = []
    for c in counts:
        scored = sorted(((v * math.log(1 + n / df[t]), t) for t, v in c.items()
                         if n <= 2 or df[t] < n), key=lambda st: (-st[0], st[1]))
        out.append([t for _, t in scored[:per_part]])
    return out


def add_cross_refs(parts: list[Part], per_part: int) -> None:
    """Insert, after the first line that names a shared keyword, a pointer to the earlier part."""
    keywords = shared_keywords(parts)
    for j in range(1, len(parts)):
        scored = []
        for i in range(j):
            shared = [t for t in keywords[j] if t in keywords[i]]
            if shared:
                scored.append((-len(shared), i, shared))
        for _, i, shared in sorted(scored)[:per_part]:
            body = parts[j].body
            match = re.search(rf"(?i)\b{re.escape(shared[0])}\b", body)
            line_end = body.find("\n", match.end()) if match else -1
            pos = line_end + 1 if line_end >= 0 else len(body)
            lead = "" if pos == 0 or body[pos - 1] == "\n" else "\n"
            names = ", ".join(f'"{t}"' for t in shared[:3])
            note = (f"{lead}[Cross-reference: Part {i + 1} ({parts[i].title}) also discusses "
                    f"{names}; see the contents.]\n")
            parts[j].inserts.append((pos, note, xref_label(i + 1)))


@dataclass
class Assembled:
    text: str
    spans: list[Span]
    body_starts: list[int]
    parts: list[Part]

    def locate(self, part: int, passage: Passage) -> tuple[int, int] | None:
        """Where an original passage of a part sits in the text, or None if split by an insert."""
        inserts = self.parts[part].inserts
        if any(passage.start < pos < passage.end for pos, _, _ in inserts):
            return None
        shift = sum(len(t) for pos, t, _ in inserts if pos <= passage.start)
        start = self.body_starts[part] + passage.start + shift
        return start, start + passage.end - passage.start


def assemble(parts: list[Part]) -> Assembled:
    count = len(parts)
    pieces = ["Contents\n"] + [f"{n}. {p.title}\n" for n, p in enumerate(parts, 1)] + ["\n"]
    text = "".join(pieces)
    spans: list[Span] = []
    body_starts = []
    for n, part in enumerate(parts, 1):
        part_start = len(text)
        text += f"=== Part {n} of {count}: {part.title} ===\n"
        body_starts.append(len(text))
        cursor = 0
        for pos, insert, label in sorted(part.inserts, key=lambda x: x[0]):
            text += part.body[cursor:pos]
            spans.append(Span(len(text), len(text) + len(insert), label))
            text += insert
            cursor = pos
        text += part.body[cursor:]
        if not text.endswith("\n"):
            text += "\n"
        spans.append(Span(part_start, len(text), part_label(n, part.doc_id)))
        text += "\n"
    return Assembled(text, spans, body_starts, parts)


def fit_parts(parts: list[Part], meter: LengthMeter, budget: int) -> list[Part]:
    """Fit all parts into the budget by water-filling: small parts stay whole, the large
    ones share what is left equally and are cut at a line end. Every part keeps its place
    (part numbers in cross-references stay true), so a long first document cannot crowd
    out the documents that refer to it."""
    # a part longer than the whole budget is cut anyway, so its exact length is not needed
    costs = [meter.count(p.body, cap=budget) + 16 for p in parts]
    allowance = {}
    left, open_parts = budget, sorted(range(len(parts)), key=lambda i: (costs[i], i))
    while open_parts:
        share = left // len(open_parts)
        i = open_parts[0]
        if costs[i] > share:
            for j in open_parts:
                allowance[j] = share
            break
        allowance[i] = costs[i]
        left -= costs[i]
        open_parts.pop(0)
    kept = []
    for i, part in enumerate(parts):
        if allowance[i] >= costs[i]:
            kept.append(part)
            continue
        body = fit_to_tokens(part.body, meter, allowance[i] - 16)
        kept.append(Part(part.doc_id, part.title, body,
                         [x for x in part.inserts if x[0] <= len(body)], part.quotable))
    return kept


@dataclass
class MegadocBuilder:
    """Builds one megadoc per job; generator failures propagate as GenerationError."""

    config: SynthesizeConfig
    meter: LengthMeter
    generator: Generator
    seed: int

    def build(self, job: Job, docs: list[Document]) -> Document:
        mega = self.config.megadocs
        usage = Usage()
        if job.method == "stitch":
            parts = self._stitch(job, docs[0], usage)
        elif job.method == "stretch":
            parts = self._stretch(job, docs[0], usage)
        else:
            parts = [Part(d.id, doc_title(d), d.text) for d in docs]
            add_cross_refs(parts, mega.cross_refs_per_part)
        memo: dict[tuple[int, int], QuestionAnswer | None] = {}
        budget = job.bucket - 48 * mega.questions - 16 * len(parts) - 32
        for _ in range(4):
            assembled = assemble(fit_parts(parts, self.meter, budget))
            text, spans, links = self._questions(job, assembled, memo, usage)
            tokens = self.meter.count(text)
            if tokens <= job.bucket:
                break
            budget -= tokens - job.bucket + 32
        else:
            raise GenerationError("over-length", f"{tokens} tokens > bucket {job.bucket}")
        kept = assembled.parts
        meta: MegadocMeta = {
            "method": job.method, "job_id": job.job_id,
            "member_ids": list(dict.fromkeys(p.doc_id for p in kept)),
            "planned_member_ids": list(job.member_ids),
            "parts": [{"doc_id": p.doc_id, "title": p.title, "quotable": p.quotable}
                      for p in kept],
            "cross_refs": [{"label": s.label, "start": s.start} for s in spans
                           if s.label.startswith(XREF)],
            "questions": links, **links_meta(links),
            "length": length_meta(self.meter, text, job.bucket),
            "generator": self.generator.describe(), "paraphrased": job.method == "stitch",
            "usage": usage.to_meta(),
        }
        return Document(id=make_document_id(self.config.source, f"megadoc:{job.job_id}"),
                        source=self.config.source, kind="megadoc", text=text,
                        spans=sorted(spans), meta=meta)

    def _questions(self, job: Job, assembled: Assembled, memo: dict, usage: Usage
                   ) -> tuple[str, list[Span], list[dict]]:
        text = assembled.text + "=== Questions about earlier parts ===\n"
        spans = list(assembled.spans)
        body = assembled.text
        found: list[tuple[int, tuple[int, int], QuestionAnswer]] = []
        quotable = [i for i, p in enumerate(assembled.parts) if p.quotable]
        keyed_rng(self.seed, "megadoc-parts", job.job_id).shuffle(quotable)
        for q in range(self.config.megadocs.questions if quotable else 0):
            rng = keyed_rng(self.seed, "megadoc-question", job.job_id, q)
            part = quotable[q % len(quotable)]  # spread questions over parts
            candidates = passages(assembled.parts[part].body)
            rng.shuffle(candidates)
            for passage in candidates[:QUESTION_TRIES]:
                where = assembled.locate(part, passage)
                if where is None or any(w == where for _, w, _ in found):
                    continue
                qa = self._ask(memo, part, passage, assembled, job, usage)
                if qa and (qa.cue is None or body.count(qa.cue) == 1):
                    found.append((part, where, qa))
                    break
        distances = DistanceMeter(self.meter, "")
        entries = []
        for k, (part, (start, end), qa) in enumerate(found, 1):
            quote = text[start:end]
            question_start = len(text)
            text += (f"Question {k} (the answer is in Part {part + 1}; see the contents): "
                     f"{qa.question}\nAnswer {k}: Part {part + 1} says: \"{quote}\" "
                     f"{qa.answer}\n\n")
            spans.append(Span(start, end, evidence_label(assembled.parts[part].doc_id)))
            entries.append((start, end, question_start, part))
        distances.text = text
        links = [{**distances.link(s, e, qs), "part": p + 1} for s, e, qs, p in entries]
        return text, spans, links

    def _ask(self, memo: dict, part: int, passage: Passage, assembled: Assembled, job: Job,
             usage: Usage) -> QuestionAnswer | None:
        key = (part, passage.start)
        if key not in memo:
            body = assembled.parts[part].body
            try:
                qa = self.generator.question(body[passage.start:passage.end],
                                             assembled.parts[part].title,
                                             f"{job.job_id}:{part}:{passage.start}")
                usage.add(qa.usage)
            except GenerationError as error:
                if error.kind != "no-question":
                    raise
                qa = None
            memo[key] = qa
        return memo[key]

    def _stitch(self, job: Job, doc: Document, usage: Usage) -> list[Part]:
        """Original first, then K model rephrasings, each pointing back to Part 1."""
        k = self.config.megadocs.stitch_rephrasings
        original = fit_to_tokens(doc.text, self.meter, job.bucket // (k + 1))
        chunks = [original[a:b] for a, b in chunk_at_lines(original, self.config.megadocs.chunk_chars)]
        parts = [Part(doc.id, doc_title(doc), original)]
        for variant in range(1, k + 1):
            texts, spent = self.generator.rewrite(
                chunks, f"Rewrite the text below in different words (rephrasing {variant} of "
                        f"{k}), keeping every fact and the order.", f"{job.job_id}:{variant}")
            usage.add(spent)
            note = f"[This part restates Part 1 ({parts[0].title}) in other words.]\n"
            parts.append(Part(doc.id, f"{parts[0].title} (rephrasing {variant})",
                              "\n\n".join(texts), [(0, note, xref_label(1))], quotable=False))
        return parts

    def _stretch(self, job: Job, doc: Document, usage: Usage) -> list[Part]:
        """The document with a model's rationale inserted after each chunk."""
        original = fit_to_tokens(doc.text, self.meter, int(job.bucket / 1.3))
        bounds = chunk_at_lines(original, self.config.megadocs.chunk_chars)
        texts, spent = self.generator.rewrite(
            [original[a:b] for a, b in bounds],
            "Explain in two or three sentences what this passage says and how it connects "
            "to what came before.", job.job_id)
        usage.add(spent)
        inserts = [(b, f"\n[Rationale: {r}]\n\n", RATIONALE)
                   for (_, b), r in zip(bounds, texts, strict=True)]
        return [Part(doc.id, doc_title(doc), original, inserts)]
