"""The mixture plan before tokenize: segment lengths estimated from characters.

`longweave plan` runs the stages up to synthesize, then asks what the pack stage would
plan, without tokenizing the corpus: each source's characters per token are measured on a
seeded sample of its documents with the run's tokenizer, every document's length and its
unit boundaries (files, chapters, turns) are converted at that rate, and the documents are
split and bucketed by the very functions tokenize uses (`plan_pieces`, `bucket_for`, with
the same segment ids, so the same seeded bucket draws). The mixture plan and its
shortfalls are then the pack stage's own (`plan_mixture`, `plan_shortfalls`): an
infeasible budget or a share the data cannot meet is found before the costliest stage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyarrow.parquet as pq

from longweave.pipeline.packing.segments import BOUNDARY_PREFIXES, bucket_for, plan_pieces
from longweave.schemas import fs, layout
from longweave.schemas.meta import COMPONENTS
from longweave.schemas.recipe import Recipe
from longweave.schemas.seeded import seeded_unit

SAMPLE_CHARS_PER_SOURCE = 2_000_000  # text tokenized per source to measure its rate
# the sample is windows of this many characters spread over every document, so a source
# of a few whole repositories is measured on all of them, not on one
WINDOW_CHARS = 4096
READ_COLUMNS = ["id", "source", "text", "spans", "meta"]


@dataclass
class DocumentShape:
    """What the estimate needs of one document: its length and where a split may fall."""

    doc_id: str
    source: str
    chars: int
    boundaries: list[int]  # character offsets where a file / chapter / turn starts
    strong: list[int]  # character offsets where a repository component starts


@dataclass
class SourceRate:
    """Characters per token of one source, measured on a sample of its documents."""

    sample_windows: int = 0
    sample_chars: int = 0
    sample_tokens: int = 0

    @property
    def chars_per_token(self) -> float:
        return self.sample_chars / self.sample_tokens if self.sample_tokens else 4.0


def read_shapes(stage_dir: str) -> Iterator[tuple[DocumentShape, str]]:
    """(shape, text) of every document a finished stage wrote, one row group at a time."""
    for path in fs.glob(fs.join(stage_dir, layout.DOCUMENTS_DIR, "*.parquet")):
        with fs.open_binary(path) as handle:
            parquet = pq.ParquetFile(handle)
            for batch in parquet.iter_batches(columns=READ_COLUMNS, batch_size=64):
                for row in batch.to_pylist():
                    yield shape_of(row), row["text"]


def shape_of(row: dict) -> DocumentShape:
    spans = row.get("spans") or []
    boundaries = sorted({int(s["start"]) for s in spans
                         if str(s["label"]).startswith(BOUNDARY_PREFIXES)})
    components = json.loads(row.get("meta") or "{}").get(COMPONENTS) or []
    strong = sorted({int(c["start"]) for c in components
                     if isinstance(c, dict) and "start" in c})
    return DocumentShape(row["id"], row["source"], len(row["text"]), boundaries, strong)


def measure_rates(read: Callable[[], Iterable[tuple[DocumentShape, str]]], tokenizer,
                  seed: int, sample_chars: int = SAMPLE_CHARS_PER_SOURCE
                  ) -> tuple[list[DocumentShape], dict[str, SourceRate]]:
    """Every document's shape, and each source's characters per token.

    Two passes over `read()`: the first counts each source's characters, the second takes
    windows at the density that makes `sample_chars` in expectation (everything for a
    small source), at seeded offsets, so every document is sampled in proportion to its
    length whatever the file order or the worker count.
    """
    shapes = [shape for shape, _ in read()]
    totals: dict[str, int] = {}
    for shape in shapes:
        totals[shape.source] = totals.get(shape.source, 0) + shape.chars
    density = {source: min(1.0, sample_chars / total) if total else 1.0
               for source, total in totals.items()}
    windows: dict[str, list[str]] = {source: [] for source in totals}
    for shape, text in read():
        windows[shape.source].extend(sample_windows(text, density[shape.source], seed,
                                                    shape.doc_id))
    rates = {}
    for source, texts in windows.items():
        if not texts:  # nothing drawn from a tiny source: measure its first document
            texts = [next(text for shape, text in read() if shape.source == source)]
        encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
        rates[source] = SourceRate(len(texts), sum(len(t) for t in texts),
                                   sum(len(e.ids) for e in encodings))
    return shapes, rates


def sample_windows(text: str, density: float, seed: int, doc_id: str) -> list[str]:
    """Windows of `text` covering `density` of it in expectation, at seeded offsets.

    The text is cut into slots of WINDOW_CHARS / density characters; each slot gives one
    window at a seeded offset inside it; a partial last slot (or a text shorter than a
    slot) gives one with the probability that keeps the expectation exact.
    """
    if density >= 1.0:
        return [text] if text else []
    slot = WINDOW_CHARS / density
    out = []
    start, index = 0.0, 0
    while start < len(text):
        room = min(slot, len(text) - start)
        key = f"window:{doc_id}:{index}"
        # a window of min(room, WINDOW_CHARS) characters is worth drawing with the chance
        # that keeps the expected sample at `density` of the text
        if room >= slot or seeded_unit(seed, key) < max(room, WINDOW_CHARS) / slot:
            offset = int(start + seeded_unit(seed, key + ":at") * max(0.0, room - WINDOW_CHARS))
            out.append(text[offset:offset + WINDOW_CHARS])
        start += slot
        index += 1
    return out


def estimate_segments(shapes: Iterable[DocumentShape], rates: dict[str, SourceRate],
                      recipe: Recipe, special_tokens: tuple[int, int]
                      ) -> dict[str, list]:
    """The columns `plan_mixture` takes (segment_id, source, bucket, tokens), estimated.

    `special_tokens` is (BOS added per piece, EOS added to the last piece): 0 or 1 each.
    """
    bos, eos = special_tokens
    buckets = list(recipe.buckets)
    limit = buckets[-1] - bos - eos
    out: dict[str, list] = {"segment_id": [], "source": [], "bucket": [], "tokens": []}
    for shape in shapes:
        rate = rates[shape.source].chars_per_token
        n_tokens = max(1, round(shape.chars / rate))
        pieces = plan_pieces(n_tokens, [round(c / rate) for c in shape.boundaries], limit,
                             [round(c / rate) for c in shape.strong])
        for number, (lo, hi, _) in enumerate(pieces):
            length = hi - lo + bos + (eos if number == len(pieces) - 1 else 0)
            segment_id = shape.doc_id if len(pieces) == 1 else f"{shape.doc_id}#{number}"
            out["segment_id"].append(segment_id)
            out["source"].append(shape.source)
            out["bucket"].append(bucket_for(length, buckets, recipe.bucket_policy,
                                            recipe.seed, segment_id))
            out["tokens"].append(length)
    return out
