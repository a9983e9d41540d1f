"""Synthetic retrieval tasks in RULER's families, as chat training samples.

Needle tasks (single, multi-key, multi-value, multi-query) and variable tracking insert
statements into a haystack of corpus text at line starts near the planned depth; word
extraction tasks (common, frequent) build word lists from the corpus vocabulary. Lengths
are fitted with the meter (the recipe's tokenizer when given).
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable

from longweave.schemas.document import Document, Span, make_document_id
from longweave.schemas.meta import SyntheticTaskMeta
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.schemas.seeded import keyed_rng
from longweave.schemas.spans import needle_label
from longweave.synth.generators.base import GenerationError
from longweave.synth.plan import Job
from longweave.synth.render import (
    CHAT_TEMPLATE,
    DistanceMeter,
    length_meta,
    links_meta,
    render_chat,
)
from longweave.synth.textutil import LengthMeter, fit_to_tokens, words

TYPE_NAMES = {"numbers": "number", "words": "word", "uuids": "UUID"}
RESERVE_TOKENS = 300
FILL = 0.92  # a sample is done once it fills this share of its bucket


def insert_at_lines(haystack: str, needles: list[tuple[float, str]]
                    ) -> tuple[str, list[tuple[int, int, float]]]:
    """Insert each needle (depth, text) at the line start nearest its depth.

    Returns the new text and, per needle in input order, its `[start, end)` and realised depth.
    """
    line_starts = [0] + [i + 1 for i, c in enumerate(haystack) if c == "\n"]
    positions = []
    for depth, _ in needles:
        target = depth * len(haystack)
        k = bisect_left(line_starts, target)
        options = [line_starts[j] for j in (k - 1, k) if 0 <= j < len(line_starts)]
        positions.append(min(options, key=lambda p: (abs(p - target), p)))
    order = sorted(range(len(needles)), key=lambda i: (positions[i], i))
    out, cursor, shift = [], 0, 0
    placed: dict[int, tuple[int, int, float]] = {}
    for i in order:
        pos, text = positions[i], needles[i][1] + "\n"
        out.append(haystack[cursor:pos])
        start = pos + shift
        placed[i] = (start, start + len(needles[i][1]), pos / max(1, len(haystack)))
        out.append(text)
        shift += len(text)
        cursor = pos
    out.append(haystack[cursor:])
    return "".join(out), [placed[i] for i in range(len(needles))]


class TaskBuilder:
    def __init__(self, config: SynthesizeConfig, meter: LengthMeter, seed: int) -> None:
        self.config = config
        self.meter = meter
        self.seed = seed

    def build(self, job: Job, docs: list[Document]) -> Document:
        rng = keyed_rng(self.seed, "task", job.job_id)
        corpus = "\n\n".join(d.text for d in docs)
        vocab = sorted(set(words(corpus)))
        if len(vocab) < 20:
            raise GenerationError("small-vocabulary", f"{len(vocab)} words in the haystack")
        budget, best = job.bucket - RESERVE_TOKENS, None
        for _ in range(5):  # steer the haystack budget until the sample nearly fills the bucket
            body, question, answer, needles = self._family(job, rng.getstate(), corpus, vocab,
                                                           budget)
            chat = render_chat(f"{body}\n{question}", answer)
            tokens = self.meter.count(chat.text)
            if tokens <= job.bucket:
                best = (body, question, answer, needles, chat)
                if tokens >= FILL * job.bucket:
                    break
            budget += job.bucket - tokens - 16
        if best is None:
            raise GenerationError("over-length", f"{tokens} tokens > bucket {job.bucket}")
        body, question, answer, needles, chat = best
        offset = chat.user_body_start
        distances = DistanceMeter(self.meter, chat.text)
        spans = list(chat.spans)
        links = []
        for n, (start, end, depth) in enumerate(needles):
            spans.append(Span(offset + start, offset + end, needle_label(n)))
            link = distances.link(offset + start, offset + end, offset + len(body) + 1)
            links.append({**link, "depth": depth})
        meta: SyntheticTaskMeta = {
            "method": job.method, "family": job.method,
            "value_type": job.variant if job.method.startswith("niah") else None,
            "job_id": job.job_id, "member_ids": list(job.member_ids),
            "questions": links, **links_meta(links),
            "answer": answer, "template": CHAT_TEMPLATE, "messages": chat.messages,
            "length": length_meta(self.meter, chat.text, job.bucket),
        }
        if needles:  # word-extraction families have no needle, hence no depth
            meta.update(target_depth=job.depth, depth=needles[0][2])
        return Document(id=make_document_id(self.config.source, f"task:{job.job_id}"),
                        source=self.config.source, kind="synthetic_task", text=chat.text,
                        spans=sorted(spans), meta=meta)

    def _family(self, job: Job, state: object, corpus: str, vocab: list[str], budget: int):  # noqa: ANN202
        rng = keyed_rng(self.seed, "task", job.job_id)
        rng.setstate(state)
        if job.method == "common_words":
            return (*self._common_words(rng, vocab, budget), [])
        if job.method == "frequent_words":
            return (*self._frequent_words(rng, vocab, budget), [])
        haystack = self._haystack(corpus, budget - 60 * self.config.tasks.needles)
        if job.method == "variable_tracking":
            return self._variable_tracking(rng, job, haystack)
        return self._niah(rng, job, haystack, vocab)

    def _haystack(self, corpus: str, budget: int) -> str:
        want = int(self.meter.chars_for(budget, corpus) * 1.1) + 1
        text = corpus
        while len(text) < want:  # RULER repeats its essays when a haystack runs short
            text += "\n\n" + corpus
        return fit_to_tokens(text, self.meter, budget)

    def _niah(self, rng, job: Job, haystack: str, vocab: list[str]):  # noqa: ANN001, ANN202
        n = self.config.tasks.needles
        family, kind = job.method, job.variant or "numbers"
        name = TYPE_NAMES[kind]
        keys: list[str] = []
        while len(keys) < (1 if family in ("niah_single", "niah_multivalue") else n):
            key = f"{rng.choice(vocab)}-{rng.choice(vocab)}"
            if key not in keys and key not in haystack:
                keys.append(key)
        values_per_key = n if family == "niah_multivalue" else 1
        items = [(k, _value(rng, kind, vocab)) for k in keys for _ in range(values_per_key)]
        depths = [job.depth or 0.0] + [rng.random() for _ in items[1:]]
        needles = [(d, f"One of the special magic {name}s for {k} is: {v}.")
                   for d, (k, v) in zip(depths, items, strict=True)]
        text, placed = insert_at_lines(haystack, needles)
        if family in ("niah_single", "niah_multikey"):
            key, value = items[0]
            question = f"What is the special magic {name} for {key} mentioned in the provided text?"
            answer = f"The special magic {name} for {key} mentioned in the provided text is: {value}"
            placed = placed[:1] if family == "niah_single" else placed
        elif family == "niah_multivalue":
            key = keys[0]
            in_order = [v for _, (_, v) in sorted(zip(placed, items, strict=True))]
            question = f"What are all the special magic {name}s for {key} mentioned in the provided text?"
            answer = f"The special magic {name}s for {key} mentioned in the provided text are: " + (
                ", ".join(in_order))
        else:
            question = (f"What are the special magic {name}s for {', '.join(keys)} mentioned "
                        "in the provided text?")
            answer = "; ".join(f"{k}: {v}" for k, v in items)
            answer = f"The special magic {name}s mentioned in the provided text are: {answer}"
        return text, question, answer, placed

    def _variable_tracking(self, rng, job: Job, haystack: str):  # noqa: ANN001, ANN202
        hops = self.config.tasks.variable_hops
        names: list[str] = []
        while len(names) < hops + 1:
            name = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(5))
            if name not in names and name not in haystack:
                names.append(name)
        value = str(rng.randrange(10_000, 100_000))
        first = job.depth or 0.0
        depths = [first] + sorted(first + (1 - first) * rng.random() for _ in range(hops))
        statements = [f"VAR {names[0]} = {value}."] + [
            f"VAR {names[i]} = VAR {names[i - 1]}." for i in range(1, hops + 1)]
        text, placed = insert_at_lines(haystack, list(zip(depths, statements, strict=True)))
        question = f"Find all variables that are assigned the value {value} in the text above."
        answer = f"The variables assigned the value {value} are: {', '.join(names)}."
        return text, question, answer, placed

    def _common_words(self, rng, vocab: list[str], budget: int):  # noqa: ANN001, ANN202
        k = self.config.tasks.common_words
        pool = vocab[:]
        rng.shuffle(pool)
        common, rare = pool[:k], pool[k:]

        def make(n: int) -> str:
            c_rep = max(3, min(30, n // (2 * k)))
            u_rep = max(1, min(3, c_rep - 1))
            need = max(0, (n - k * c_rep) // u_rep)
            entries = [w for w in common for _ in range(c_rep)]
            entries += [w for w in rare[:need] for _ in range(u_rep)]
            keyed_rng(self.seed, "cwe", n, *common).shuffle(entries)
            return "\n".join(f"{i}. {w}" for i, w in enumerate(entries, 1))

        body = "Below is a numbered list of words. Some appear more often than others.\n" + (
            _fit_count(make, self.meter, budget - 40))
        question = f"Question: What are the {k} most common words in the above list?"
        answer = f"The {k} words that appear most often in the list are: {', '.join(common)}."
        return body, question, answer

    def _frequent_words(self, rng, vocab: list[str], budget: int):  # noqa: ANN001, ANN202
        k = self.config.tasks.frequent_words
        pool = vocab[:]
        rng.shuffle(pool)
        ranked = pool[:200]
        weights = [1 / (r + 1) ** 1.5 for r in range(len(ranked))]
        top: list[str] = []

        def make(n: int) -> str:
            draws = keyed_rng(self.seed, "fwe", n, *ranked[:3]).choices(ranked, weights, k=n)
            counts = Counter(draws).most_common()
            top[:] = [w for w, _ in counts[:k]]
            if len(counts) <= k or len({c for _, c in counts[:k + 1]}) < k + 1:
                top.clear()  # tied counts would make the answer ambiguous
            return "\n".join(" ".join(draws[i:i + 16]) for i in range(0, n, 16))

        body = "Read the coded text below and track how often each coded word appears.\n" + (
            _fit_count(make, self.meter, budget - 40))
        if not top:
            raise GenerationError("ambiguous", "frequent-word counts tie at the top")
        question = f"Question: What are the {k} most frequently appearing coded words in the text?"
        answer = f"The {k} most frequent coded words are: {', '.join(top)}."
        return body, question, answer


def _value(rng, kind: str, vocab: list[str]) -> str:  # noqa: ANN001 - random.Random
    if kind == "numbers":
        return str(rng.randrange(1_000_000, 10_000_000))
    if kind == "uuids":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return f"{rng.choice(vocab)}-{rng.choice(vocab)}"


def _fit_count(make: Callable[[int], str], meter: LengthMeter, budget: int) -> str:
    """`make(n)` for the largest n found (a few probes) whose text fits in `budget` tokens."""
    n = 200
    text = make(n)
    for _ in range(5):
        tokens = max(1, meter.count(text))
        n = max(1, int(n * budget / tokens * 0.98))
        text = make(n)
        if 0.95 * budget <= meter.count(text) <= budget:
            break
    while meter.count(text) > budget and n > 1:
        n = int(n * 0.95)
        text = make(n)
    return text
