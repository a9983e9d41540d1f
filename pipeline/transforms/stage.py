"""The shape every document stage transform has, so one shell can run any of them.

A stage transform takes a `PCollection[Document]` and returns a dict of PCollections:
`documents` (Documents passed on), `drops` (one `Drop` per record not passed on, with
its reason), optionally `created` (one element per record the stage made rather than
read, such as a synthetic sample, so the ledger balances as in + created = out + dropped),
and optionally further named outputs of JSON-able dicts (e.g. `clusters`)
that the shell writes beside the documents as `<name>/part-*.jsonl`.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam

from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop

DOCUMENTS = "documents"
DROPS = "drops"
CREATED = "created"  # optional: one element per record the stage made (for the ledger)


def split_kept_and_dropped(pcoll: beam.PCollection, label: str) -> dict[str, Any]:
    """Route a PCollection of `Document | Drop` into the stage-output dict."""
    tagged = pcoll | f"{label}Split" >> beam.Map(
        lambda item: beam.pvalue.TaggedOutput(DROPS if isinstance(item, Drop) else DOCUMENTS,
                                              item)
    ).with_outputs(DOCUMENTS, DROPS)
    return {DOCUMENTS: tagged[DOCUMENTS], DROPS: tagged[DROPS]}


def quarantine_error(doc: Document, error: Exception, stage: str) -> Drop:
    """The ledger entry for a document a stage's own code could not handle.

    Per-record logic that raises on an input nobody foresaw must not end the job: the
    document is dropped as `quarantined:<error>` with the message, and the rest goes on.
    """
    return Drop(doc.id, doc.source, f"quarantined:{type(error).__name__}",
                f"{stage}: {error}"[:2000])


def passthrough(pcoll: beam.PCollection) -> dict[str, Any]:
    """Stage output that keeps every document and drops none."""
    drops = pcoll.pipeline | "NoDrops" >> beam.Create([], reshuffle=False).with_output_types(Drop)
    return {DOCUMENTS: pcoll, DROPS: drops}


__all__ = ["CREATED", "DOCUMENTS", "DROPS", "Document", "Drop", "passthrough", "split_kept_and_dropped"]
