"""Synthetic samples per question family: how many, and how far each answer's evidence is.

A family (meta `family`, else `method`: next_word, code_definition, book_two_hop, ...,
the RULER task families, megadoc methods) is the unit the recipe shares out, so the report
shows each one's sample count, the evidence-to-question distances in tokens (measured by
the tokenize stage for every sample kind, `meta.tokenize.dependency_distances`) and those
distances as a share of the sample's bucket: the reach across the row it trains.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from longweave.pipeline.report.inputs import parse_meta
from longweave.schemas.meta import DEPENDENCY_DISTANCES, TOKENIZE

SYNTHETIC_KINDS = frozenset({"megadoc", "paraphrase_qa", "synthetic_task"})
QUANTILES = (10, 25, 50, 75, 90)

DEFINITIONS = {
    "synthetic_families": (
        "Per question family of the synthetic samples: samples packed, evidence-to-question "
        "distances in tokens (quantiles over every evidence span) and the same distances as "
        "a share of the sample's bucket (0.5 = the evidence sits half a row before the "
        "question)."),
}


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    cuts = np.percentile(np.asarray(values, dtype=np.float64), QUANTILES)
    return {f"p{q}": round(float(c), 3) for q, c in zip(QUANTILES, cuts, strict=True)}


def family_distances(content: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """family -> {samples, distances, distance_tokens {p10..p90}, row_share {p10..p90}}."""
    docs = content.unique(subset="doc_id", keep="first", maintain_order=True)
    tokens: dict[str, list[float]] = {}
    shares: dict[str, list[float]] = {}
    samples: dict[str, int] = {}
    for kind, meta_text in docs.select("kind", "meta").iter_rows():
        if kind not in SYNTHETIC_KINDS:
            continue
        meta = parse_meta(meta_text)
        family = str(meta.get("family") or meta.get("method") or kind)
        samples[family] = samples.get(family, 0) + 1
        measured = ((meta.get(TOKENIZE) or {}).get(DEPENDENCY_DISTANCES) or {}).get("tokens")
        bucket = (meta.get("length") or {}).get("bucket") or 0
        for value in measured or []:
            tokens.setdefault(family, []).append(float(value))
            if bucket:
                shares.setdefault(family, []).append(float(value) / bucket)
    return {family: {"samples": n, "distances": len(tokens.get(family, [])),
                     "distance_tokens": _quantiles(tokens.get(family, [])),
                     "row_share": _quantiles(shares.get(family, []))}
            for family, n in sorted(samples.items())}
