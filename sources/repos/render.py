"""Render one repository as one document: header, then each file behind its separator.

Files of one weakly connected component are contiguous, so a packer that must split an
over-long repository at `file:` span boundaries can cut between components (recorded in
meta as character ranges) rather than through a chain of dependencies. The dependency
distance of an edge is how many characters before the importing file the imported file
starts: the reach a model needs to use the dependency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from longweave.schemas.document import Span
from longweave.schemas.meta import ComponentRange
from longweave.schemas.spans import file_label


@dataclass
class Rendered:
    text: str
    spans: list[Span]
    components: list[ComponentRange]
    starts: dict[str, int] = field(default_factory=dict)


def render(repo: str, components: list[list[str]], texts: dict[str, str],
           repo_header: str, file_header: str) -> Rendered:
    parts = [repo_header.replace("{repo}", repo)]
    offset = len(parts[0])
    spans: list[Span] = []
    starts: dict[str, int] = {}
    bounds: list[ComponentRange] = []
    for members in components:
        first = offset
        for path in members:
            content = texts[path]
            block = file_header.replace("{path}", path) + content
            if not block.endswith("\n"):
                block += "\n"
            starts[path] = offset
            spans.append(Span(offset, offset + len(block), file_label(path)))
            parts.append(block)
            offset += len(block)
        bounds.append({"start": first, "end": offset, "files": len(members)})
    return Rendered("".join(parts), spans, bounds, starts)


def dependency_edges(graph: nx.DiGraph, rendered: Rendered, order: list[str],
                     limit: int) -> dict[str, object]:
    """Import edges as compact `[importer, imported, chars]` by file index, and a summary of
    every edge's distance in characters (meta `dependency_edges`, `graph.edge_chars`).

    A negative distance means the dependency comes later: only possible inside a cycle.
    """
    position = {path: i for i, path in enumerate(order)}
    starts = rendered.starts
    edges = sorted((position[u], position[v], starts[u] - starts[v]) for u, v in graph.edges)
    values = sorted(d for _, _, d in edges)
    summary: dict[str, object] = {"count": len(values)}
    if values:
        summary.update({
            "mean": round(sum(values) / len(values), 1),
            "p50": _percentile(values, 0.5), "p90": _percentile(values, 0.9),
            "p99": _percentile(values, 0.99), "max": values[-1],
            "backward": sum(1 for v in values if v < 0),
        })
    return {"summary": summary, "edges": [list(e) for e in edges[:limit]],
            "edges_truncated": len(edges) > limit}


def _percentile(values: list[int], q: float) -> int:
    """Nearest-rank percentile of sorted values (no interpolation: stays an integer)."""
    rank = max(0, min(len(values) - 1, int(round(q * len(values) + 0.5)) - 1))
    return values[rank]
