"""The shape every document stage transform has, so one shell can run any of them.

A stage transform takes a `PCollection[Document]` and returns a dict of PCollections:
- `documents`: Documents passed on; a list of PCollections is written side by side, never
  flattened (the DirectRunner would hold a multi-input Flatten's inputs in the driver);
- `drops`: one `Drop` per record not passed on, with its reason. A drop of an input
  document names that document's input, made where the document is at hand
  (`Drop.with_locator(doc.meta)`, or the `path` and `record` a dedupe `Candidate`
  carries): the shell does not join drops with the inputs;
- optionally `created`: one element per record the stage made rather than read, such as a
  synthetic sample, so the ledger balances as in + created = out + dropped;
- optionally further named outputs of JSON-able dicts (e.g. `clusters`) that the shell
  writes beside the documents as `<name>/part-*.jsonl`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import apache_beam as beam

from longweave.pipeline.transforms.docio import ReadDocuments, write_documents, write_rows
from longweave.pipeline.transforms.files import (
    FileSet,
    JsonLines,
    NameFiles,
    PendingFiles,
    write_bundles,
)
from longweave.pipeline.transforms.ledger_io import count_as, count_drops, write_counts
from longweave.pipeline.transforms.progress import OUTPUT, document_chars, track
from longweave.schemas import fs, layout
from longweave.schemas.ledger import (
    DROP_SCHEMA,
    QUARANTINE_SCHEMA,
    Drop,
    Rejected,
)

DOCUMENTS = layout.DOCUMENTS_DIR
DROPS = layout.DROPS_DIR
QUARANTINE = layout.QUARANTINE_DIR
CREATED = "created"  # optional: one element per record the stage made (for the ledger)


def split_kept_and_dropped(pcoll: beam.PCollection, label: str) -> dict[str, Any]:
    """Route a PCollection of `Document | Drop` into the stage-output dict."""
    tagged = pcoll | f"{label}Split" >> beam.Map(
        lambda item: beam.pvalue.TaggedOutput(DROPS if isinstance(item, Drop) else DOCUMENTS,
                                              item)
    ).with_outputs(DOCUMENTS, DROPS)
    return {DOCUMENTS: tagged[DOCUMENTS], DROPS: tagged[DROPS]}


def passthrough(pcoll: beam.PCollection) -> dict[str, Any]:
    """Stage output that keeps every document and drops none."""
    drops = pcoll.pipeline | "NoDrops" >> beam.Create([], reshuffle=False).with_output_types(Drop)
    return {DOCUMENTS: pcoll, DROPS: drops}


def write_ledger_inputs(tmp: str, drops: beam.PCollection, counted: list,
                        pending: Sequence[PendingFiles] = ()) -> None:
    """Every stage's accounting: one line per drop in `drops/`, and the summed counts
    (`in`, `out`, `created`, `drop:<reason>`, `extra:<name>`) the driver turns into its
    ledger; one last step names every file of the stage (`pending` and the drops) and
    writes the counts file."""
    rows = drops | "DropToRow" >> beam.Map(Drop.to_row)
    pending = [*pending, write_rows(rows, "WriteDrops", fs.join(tmp, layout.DROPS_DIR),
                                    DROP_SCHEMA)]
    sums = ([*counted, count_drops(drops)] | "AllCounts" >> beam.Flatten()
            | "SumCounts" >> beam.CombinePerKey(sum))
    path = fs.join(tmp, layout.COUNTS_FILE)
    drops.pipeline | "WriteCounts" >> NameFiles(pending, lambda found: write_counts(found, path),
                                                sums)


def as_list(documents: beam.PCollection | list[beam.PCollection]) -> list[beam.PCollection]:
    """A stage's `documents` output: one PCollection, or several written side by side."""
    return documents if isinstance(documents, list) else [documents]


def _numbered(label: str, index: int) -> str:
    return label if index == 0 else f"{label}{index}"


def write_stage_outputs(tmp: str, docs_in: list[beam.PCollection], result: dict) -> None:
    """Write a document stage's outputs and its counts (the shell shared by every stage).

    `docs_in`: what the stage read, one or more PCollections, counted each on its own (no
    Flatten of whole documents)."""
    outputs = as_list(result[DOCUMENTS])
    pending = [write_documents(pcoll, tmp, i) for i, pcoll in enumerate(outputs)]
    counted = [*(count_as(pcoll, "in", _numbered("CountIn", i)) for i, pcoll in
                 enumerate(docs_in)),
               *(count_as(pcoll, "out", _numbered("CountOut", i)) for i, pcoll in
                 enumerate(outputs))]
    if CREATED in result:
        counted.append(count_as(result[CREATED], CREATED, "CountCreated"))
    for name, pcoll in sorted(result.items()):
        if name in (DOCUMENTS, DROPS, CREATED):
            continue
        if name == QUARANTINE:
            pending.append(write_rows(pcoll | "QuarantineToRow" >> beam.Map(Rejected.to_row),
                                      "WriteQuarantine", fs.join(tmp, QUARANTINE),
                                      QUARANTINE_SCHEMA))
            continue
        pending.append(write_bundles(pcoll, f"Write{name}",
                                     FileSet(fs.join(tmp, name), JsonLines())))
    write_ledger_inputs(tmp, result[DROPS], counted, pending)


def document_stage(pipeline: beam.Pipeline, name: str, upstream_dir: str | None,
                   make_transform: Callable[[], beam.PTransform], tmp: str) -> None:
    """A Documents-in, Documents-out stage: read the upstream stage's documents (collect
    reads its sources instead), apply the stage's transform, write its outputs and counts."""
    if upstream_dir is None:
        result = pipeline | name >> make_transform()
        result[DOCUMENTS] = track(result[DOCUMENTS], "Progress", "chars", document_chars)
        # collect's input is every record read: documents and rejected ones alike
        docs_in = [result[DOCUMENTS], result[QUARANTINE]]
    else:
        read = track(pipeline | "ReadDocuments" >> ReadDocuments(upstream_dir),
                     "Progress", "chars", document_chars)
        docs_in = [read]
        result = read | name >> make_transform()
        result[DOCUMENTS] = [track(pcoll, _numbered("ProgressOut", i), "", role=OUTPUT)
                             for i, pcoll in enumerate(as_list(result[DOCUMENTS]))]
    write_stage_outputs(tmp, docs_in, result)
