"""The filter stage's per-document logic: quality per chunk, language, redaction.

`DocumentFilter(config)(doc)` returns the (possibly trimmed and redacted) Document or a
`Drop` whose reason is `filtered:<rule>`. The Beam shell only calls it. What the filter
measures goes to its own namespace, `meta["filter"]` (see `longweave.schemas.meta`); the
reader's keys (a book's own quality signals and declared language) pass through untouched.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from longweave.filters.chunks import chunk_spans, remove_chunks
from longweave.filters.language import LanguageIdentifier
from longweave.filters.pii import redact_document
from longweave.filters.quality import Failure, code_failure, prose_failure, trajectory_failure
from longweave.schemas.document import Document, Span
from longweave.schemas.ledger import Drop
from longweave.schemas.meta import FILTER, RESOLVED, ChunkQuality, with_stage_keys
from longweave.schemas.recipe_filters import FilterConfig, KindRules, TrajectoryRules

CODE_KINDS = frozenset({"repo"})
MAX_LISTED_CHUNKS = 50


class DocumentFilter:
    """Applies a `FilterConfig` to one document at a time; the language model loads lazily."""

    def __init__(self, config: FilterConfig) -> None:
        self.config = config
        self._language: LanguageIdentifier | None = None

    @property
    def language(self) -> LanguageIdentifier:
        if self._language is None:
            self._language = LanguageIdentifier()
        return self._language

    def __call__(self, doc: Document) -> Document | Drop:
        if not doc.text.strip():
            return _drop(doc, ("empty", "no non-space characters"))
        if len(doc.text) < self.config.min_chars:
            return _drop(doc, ("min_chars",
                               f"{len(doc.text)} chars < min_chars {self.config.min_chars}"))
        rules = self.config.kinds.get(doc.kind)
        if rules is not None:
            if rules.trajectory is not None:
                failure = (trajectory_failure(doc, rules.trajectory)
                           or outcome_failure(doc, rules.trajectory))
                if failure:
                    return _drop(doc, failure)
            judged = judge_chunks(doc, rules)
            if isinstance(judged, Drop):
                return judged
            doc = judged
        if self.config.language_id and doc.kind not in CODE_KINDS:
            guess = self.language.classify(doc.text)
            doc = replace(doc, meta=with_stage_keys(doc.meta, FILTER, **guess.to_meta()))
            allowed = rules.languages if rules is not None else []
            if allowed and guess.language not in allowed:
                return _drop(doc, ("language", f"{guess.language} ({guess.score:.2f}) not in "
                                               f"{sorted(allowed)}"))
        return redact_document(doc, self.config.redact_pii, self.config.redact_secrets)


def outcome_failure(doc: Document, rules: TrajectoryRules) -> Failure | None:
    """`require_resolved`: an unresolved run, or one whose outcome is unknown, is dropped."""
    if not rules.require_resolved or doc.meta.get(RESOLVED) is True:
        return None
    label = {False: "unresolved", None: "unknown"}.get(doc.meta.get(RESOLVED), "unknown")
    return "unresolved", f"outcome is {label}; kinds.trajectory.require_resolved is true"


def chunk_failure(text: str, rules: KindRules) -> Failure | None:
    """The first failing rule of one chunk under the kind's prose or code rules."""
    if rules.code is not None:
        failure = code_failure(text, rules.code)
        if failure:
            return failure
    if rules.prose is not None:
        return prose_failure(text, rules.prose)
    return None


def judge_chunks(doc: Document, rules: KindRules) -> Document | Drop:
    """Score every chunk; drop the document or cut out its bad chunks, as the recipe says.

    The quality score (share of text in passing chunks) goes to `meta["filter"]["quality"]`;
    the keep policy of dedupe prefers higher scores.
    """
    if rules.code is None and rules.prose is None:
        return doc
    chunks = chunk_spans(doc, rules.window_chars)
    bad: list[tuple[Span, Failure]] = []
    for chunk in chunks:
        failure = chunk_failure(doc.text[chunk.start:chunk.end], rules)
        if failure:
            bad.append((chunk, failure))
    judged_chars = sum(c.end - c.start for c in chunks) or 1
    bad_chars = Counter[str]()
    for chunk, (rule, _) in bad:
        bad_chars[rule] += chunk.end - chunk.start
    bad_share = sum(bad_chars.values()) / judged_chars
    quality: ChunkQuality = {
        "score": round(1.0 - bad_share, 4), "chunks": len(chunks), "bad_chunks": len(bad),
        "failed": dict(sorted(Counter(rule for _, (rule, _) in bad).items())),
    }
    if bad and (bad_share > rules.max_bad_share or len(bad) == len(chunks)):
        rule = min(bad_chars, key=lambda r: (-bad_chars[r], r))
        example = next(detail for _, (name, detail) in bad if name == rule)
        return _drop(doc, (rule, f"{bad_share:.0%} of text in failing chunks; e.g. {example}"))
    if bad and rules.on_bad_chunk == "drop_chunk":
        removed = [chunk for chunk, _ in bad]
        quality["removed"] = [c.label for c in removed[:MAX_LISTED_CHUNKS]]
        doc = remove_chunks(doc, removed)
    return replace(doc, meta=with_stage_keys(doc.meta, FILTER, quality=quality))


def _drop(doc: Document, failure: Failure) -> Drop:
    rule, detail = failure
    return Drop(doc.id, doc.source, f"filtered:{rule}", detail)
