"""What a stage did with every record: drops with reasons, quarantined inputs, the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from longweave.schemas.document import make_document_id
from longweave.schemas.meta import PATH as META_PATH

META_RECORD = "record"  # CollectedMeta's record key (the record inside a multi-record input)


@dataclass(frozen=True)
class Drop:
    """A record a stage chose not to pass on.

    `reason` is the ledger category (`filtered:<rule>`, `duplicate`, `quarantined:<error>`,
    `sampled-out`, ...); `detail` says more for the one record (`duplicate-of:<id>`, the
    error text, the measured value against its threshold). `path` and `record` locate the
    input the document came from (its collect-time `meta["path"]` and `meta["record"]`), so
    any drop row leads back to a file and a record in it; empty for a synthetic sample.
    """

    doc_id: str
    source: str
    reason: str
    detail: str = ""
    path: str = ""
    record: str = ""

    def to_row(self) -> dict[str, str]:
        return {"doc_id": self.doc_id, "source": self.source, "reason": self.reason,
                "detail": self.detail, "path": self.path, "record": self.record}

    def with_locator(self, meta: Mapping[str, Any] | str | None) -> Drop:
        """This drop naming the input of the document whose meta (or meta JSON) is given;
        a drop that already names one keeps it."""
        if self.path or not meta:
            return self
        path, record = locator_of(json.loads(meta) if isinstance(meta, str) else meta)
        return replace(self, path=path, record=record) if path else self

    @classmethod
    def quarantined(cls, doc_id: str, source: str, error: Exception, stage: str) -> Drop:
        """The ledger entry for a document a stage's own code could not handle.

        Per-record logic that raises on an input nobody foresaw must not end the job: the
        document is dropped as `quarantined:<error>` with the message, and the rest goes on.
        """
        return cls(doc_id, source, f"quarantined:{type(error).__name__}",
                   f"{stage}: {error}"[:2000])


def locator_of(meta: Mapping[str, Any]) -> tuple[str, str]:
    """`(path, record)` of the input a document came from (its collect-time meta), as a
    drop row names it; `("", "")` when it has none."""
    path = meta.get(META_PATH)
    if not path:
        return "", ""
    record = meta.get(META_RECORD)
    return str(path), "" if record is None else str(record)


@dataclass(frozen=True)
class Rejected:
    """An input that could not be read into a Document: it goes to `quarantine/`.

    `locator` names the file, `record` the record inside it (line number, key, path in an
    archive) so a user can find it; `error` is the message.
    """

    source: str
    locator: str
    record: str
    error: str

    def to_row(self) -> dict[str, str]:
        return {"source": self.source, "locator": self.locator, "record": self.record,
                "error": self.error}

    def as_drop(self) -> Drop:
        kind = self.error.split(":", 1)[0].strip() or "error"
        return Drop(
            doc_id=make_document_id(self.source, f"{self.locator}#{self.record}"),
            source=self.source,
            reason=f"quarantined:{kind}",
            detail=f"{self.locator} [{self.record}]: {self.error}",
            path=self.locator, record=self.record,
        )


DROP_SCHEMA = pa.schema(
    [("doc_id", pa.string()), ("source", pa.string()), ("reason", pa.string()),
     ("detail", pa.large_string()), ("path", pa.string()), ("record", pa.string())]
)
QUARANTINE_SCHEMA = pa.schema(
    [("source", pa.string()), ("locator", pa.string()), ("record", pa.string()),
     ("error", pa.large_string())]
)


@dataclass
class Ledger:
    """Counts for one stage: `in + created = out + sum(dropped)` must hold.

    `created` counts records a stage makes rather than reads (synthetic samples, including
    the ones whose generation failed and were dropped); it is 0 for every other stage.
    """

    stage: str
    records_in: int = 0
    records_out: int = 0
    created: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.records_in + self.created == self.records_out + sum(self.dropped.values())

    def check(self) -> None:
        if not self.balanced:
            raise LedgerImbalance(
                f"stage {self.stage}: in={self.records_in} + created={self.created} != "
                f"out={self.records_out} "
                f"+ dropped={sum(self.dropped.values())} {self.dropped}"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "in": self.records_in,
            "out": self.records_out,
            "created": self.created,
            "dropped": dict(sorted(self.dropped.items())),
            "balanced": self.balanced,
            **({"extra": self.extra} if self.extra else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ledger:
        return cls(stage=data["stage"], records_in=int(data["in"]), records_out=int(data["out"]),
                   created=int(data.get("created", 0)),
                   dropped={k: int(v) for k, v in data.get("dropped", {}).items()},
                   extra=dict(data.get("extra", {})))

    @classmethod
    def from_counts(cls, stage: str, counts: Iterable[tuple[str, int]]) -> Ledger:
        """Build from `("in"|"out"|"created"|"drop:<reason>"|"extra:<key>", n)` pairs."""
        ledger = cls(stage=stage)
        for key, n in counts:
            if key == "in":
                ledger.records_in += n
            elif key == "out":
                ledger.records_out += n
            elif key == "created":
                ledger.created += n
            elif key.startswith("drop:"):
                reason = key[len("drop:"):]
                ledger.dropped[reason] = ledger.dropped.get(reason, 0) + n
            elif key.startswith("extra:"):
                name = key[len("extra:"):]
                ledger.extra[name] = ledger.extra.get(name, 0) + n
            else:
                raise ValueError(f"unknown ledger count key {key!r}")
        return ledger


class LedgerImbalance(RuntimeError):
    """A stage lost or invented records: in != out + dropped."""
