"""The `Document`: the unit that flows from collect to pack, and its Arrow schema."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

DocumentKind = Literal[
    "book", "repo", "trajectory", "text", "megadoc", "paraphrase_qa", "synthetic_task"
]
DOCUMENT_KINDS: tuple[str, ...] = (
    "book", "repo", "trajectory", "text", "megadoc", "paraphrase_qa", "synthetic_task",
)


def make_document_id(source: str, locator: str) -> str:
    """Stable id from (source name, locator): the same input always gets the same id."""
    digest = hashlib.blake2b(f"{source}\x00{locator}".encode(), digest_size=12)
    return digest.hexdigest()


def dump_meta(meta: dict[str, Any]) -> str:
    """Canonical JSON for meta: sorted keys, so equal dicts give byte-identical rows."""
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True, order=True)
class Span:
    """A labelled character range `[start, end)` inside a document's text."""

    start: int
    end: int
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass
class Document:
    """One collected (or synthesized) text with its labelled spans and its meta.

    `meta` is a dict in memory and canonical JSON on disk (see `dump_meta`); its keys are
    declared per kind and per stage in `longweave.schemas.meta`, span labels in
    `longweave.schemas.spans`.
    """

    id: str
    source: str
    kind: DocumentKind
    text: str
    spans: list[Span] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in DOCUMENT_KINDS:
            raise ValueError(f"document {self.id}: unknown kind {self.kind!r}")
        for span in self.spans:
            if not 0 <= span.start <= span.end <= len(self.text):
                raise ValueError(
                    f"document {self.id}: span {span.label!r} [{span.start},{span.end}) "
                    f"outside text of length {len(self.text)}"
                )

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "kind": self.kind,
            "text": self.text,
            "spans": [s.to_dict() for s in self.spans],
            "meta": dump_meta(self.meta),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Document:
        meta = row.get("meta") or "{}"
        return cls(
            id=row["id"],
            source=row["source"],
            kind=row["kind"],
            text=row["text"],
            spans=[Span(int(s["start"]), int(s["end"]), s["label"]) for s in row.get("spans") or []],
            meta=json.loads(meta) if isinstance(meta, str) else dict(meta),
        )

    def spans_with_prefix(self, prefix: str) -> list[Span]:
        """Spans whose label starts with `prefix` (a `longweave.schemas.spans` prefix)."""
        return [s for s in self.spans if s.label.startswith(prefix)]


SPAN_TYPE = pa.struct(
    [("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())]
)

DOCUMENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("text", pa.large_string()),
        ("spans", pa.list_(SPAN_TYPE)),
        ("meta", pa.large_string()),
    ]
)
