"""Redaction as a reader produces a Document, for every kind, so no file holds a secret.

The filter stage redacts too, but by then collect has already written its Parquet files
(often to a shared bucket). So every Document a reader yields passes through
`redact_collected` first, with the recipe's own switches (`filters.redact_pii`,
`filters.redact_secrets`): one mechanism for books, texts, repositories and sessions.
It reuses the filter's `redact_document` for the text, so spans shift exactly as they do
there, and also:

- remaps the reader's character offsets in meta (`components`, `dependency_links`) by
  marking them as zero-length spans for the rewrite and reading them back;
- redacts every string (and key) inside meta, because titles, record fields, a
  session's patch or task are written too;
- redacts the error text of a `Rejected`, which goes to the quarantine files.

Counts land in the reader's own key `redacted` (not `meta["filter"]`, which only the
filter stage writes), so the later filter pass, finding nothing left, cannot erase them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from longweave.filters.pii import redact_document, redact_pii
from longweave.filters.secrets import merge_counts, redact_secrets
from longweave.schemas.document import Document, Span
from longweave.schemas.ledger import Rejected
from longweave.schemas.meta import COMPONENTS, DEPENDENCY_LINKS, FILTER
from longweave.schemas.recipe_filters import FilterConfig

REDACTED_KEY = "redacted"  # CollectedMeta: what read-time redaction masked, per kind
_OFFSET_LABEL = "\x00offset"  # a marker span's label; no reader writes a label like it


@dataclass(frozen=True)
class Redaction:
    """Which redactions run as documents are read: the recipe's filter switches."""

    pii: bool = True
    secrets: bool = True

    @classmethod
    def from_filters(cls, config: FilterConfig) -> Redaction:
        return cls(pii=config.redact_pii, secrets=config.redact_secrets)

    @property
    def active(self) -> bool:
        return self.pii or self.secrets

    def text(self, text: str) -> tuple[str, dict[str, int]]:
        """Mask secrets, then PII, in one string (the order `redact_document` uses)."""
        counts: dict[str, int] = {}
        if self.secrets:
            text, found = redact_secrets(text)
            merge_counts(counts, found)
        if self.pii:
            text, found = redact_pii(text)
            merge_counts(counts, found)
        return text, counts


DEFAULT_REDACTION = Redaction()  # the filter section's defaults: both on


def redacting(items: Iterator[Document | Rejected], redaction: Redaction
              ) -> Iterator[Document | Rejected]:
    """A reader's output with every Document and every `Rejected` error redacted."""
    for item in items:
        if not redaction.active:
            yield item
        elif isinstance(item, Rejected):
            error, _ = redaction.text(item.error)
            yield item if error == item.error else replace(item, error=error)
        else:
            yield redact_collected(item, redaction)


def redact_collected(doc: Document, redaction: Redaction) -> Document:
    """`doc` with its text and meta redacted, spans and meta offsets moved to match."""
    if not redaction.active:
        return doc
    offsets = meta_offsets(doc.meta)
    marked = replace(doc, spans=[*doc.spans, *(Span(o, o, _OFFSET_LABEL) for o in offsets)])
    out = redact_document(marked, redaction.pii, redaction.secrets)
    counts = dict(out.meta.get(FILTER, {}).get("redactions", {}))
    meta = dict(doc.meta)  # the reader's meta, without the filter namespace redact_document set
    meta = _moved_offsets(meta, [span.start for span in out.spans[len(doc.spans):]])
    meta, found = _redact_value(meta, redaction)
    merge_counts(counts, found)
    meta[REDACTED_KEY] = dict(sorted(counts.items()))
    return replace(out, spans=out.spans[:len(doc.spans)], meta=meta)


def meta_offsets(meta: Mapping[str, Any]) -> list[int]:
    """The character offsets a reader put in meta, in a fixed order (see `_moved_offsets`)."""
    found: list[int] = []
    for component in meta.get(COMPONENTS) or []:
        found += [component["start"], component["end"]]
    for pair in meta.get(DEPENDENCY_LINKS) or []:
        found += list(pair)
    return found


def _moved_offsets(meta: dict[str, Any], moved: list[int]) -> dict[str, Any]:
    """`meta` with the offsets of `meta_offsets` replaced by `moved`, in the same order."""
    values = iter(moved)
    if meta.get(COMPONENTS):
        meta[COMPONENTS] = [{**c, "start": next(values), "end": next(values)}
                            for c in meta[COMPONENTS]]
    if meta.get(DEPENDENCY_LINKS):
        meta[DEPENDENCY_LINKS] = [[next(values) for _ in pair] for pair in meta[DEPENDENCY_LINKS]]
    return meta


def _redact_value(value: Any, redaction: Redaction) -> tuple[Any, dict[str, int]]:
    """Every string inside a JSON-like value redacted, dict keys included."""
    counts: dict[str, int] = {}

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            clean, found = redaction.text(item)
            merge_counts(counts, found)
            return clean
        if isinstance(item, Mapping):
            return {walk(key): walk(val) for key, val in item.items()}
        if isinstance(item, list | tuple):
            return [walk(val) for val in item]
        return item

    return walk(value), counts
