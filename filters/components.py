"""Connected components of the candidate-duplicate graph, as per-node steps Beam can shuffle.

Large-star / small-star (Kiveris et al., 2014): both steps only look at one node and its
neighbours, so each is one GroupByKey. Alternating them turns every component into a
star around its smallest node in O(log^2 n) rounds. Beam graphs are static, so the
transform unrolls a fixed number of rounds; `node_view` finds the nodes of any component
not yet a star, `union_find` joins the edges of those (none once converged) and
`final_label` gives every node its component's smallest node.

Edges are `(high, low)` tuples of node ids with `high > low`.

Why union-find and not networkx / scipy.sparse.csgraph (`bench_dedup.py --components
1000000`: 1M edges between 32-hex-digit ids, 1.2M nodes): union-find ~6 s CPU, scipy ~8 s
(its `connected_components` takes 0.3 s of that; the rest is mapping string ids to integers
and back to smallest-id labels, also ~5 s through polars), networkx 9-28 s. The graph
algorithm is never the cost, moving the ids is. And here union-find only sees the edges of
components the unrolled rounds left unfinished, usually none, on one worker (and scipy is
not a declared dependency, only datasketch's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Edge = tuple[str, str]


def both_directions(e: Edge) -> list[Edge]:
    """Large-star groups a node with all its neighbours: emit each edge from both ends."""
    return [(e[0], e[1]), (e[1], e[0])]


def large_star(node: str, neighbours: Iterable[str]) -> list[Edge]:
    """Link every larger neighbour of `node` to the smallest of the neighbourhood."""
    nbrs = set(neighbours)
    smallest = min(nbrs | {node})
    return [(v, smallest) for v in sorted(nbrs) if v > node]


def small_star(node: str, smaller_neighbours: Iterable[str]) -> list[Edge]:
    """Link `node` and its smaller neighbours to the smallest of them."""
    nbrs = set(smaller_neighbours)
    smallest = min(nbrs)
    return [(v, smallest) for v in sorted(nbrs | {node}) if v != smallest]


def node_view(node: str, parents: Iterable[str], children: Iterable[str]
              ) -> tuple[str, list[Edge]]:
    """For one node after the rounds: its parent (smallest smaller neighbour, or itself)
    and, when it breaks the star shape, its incident edges (for union-find to finish).

    A star node has at most one parent, and a node with a parent has no children.
    """
    ups, downs = set(parents), set(children)
    parent = min(ups) if ups else node
    if len(ups) <= 1 and not (ups and downs):
        return parent, []
    return parent, [(node, p) for p in sorted(ups)] + [(c, node) for c in sorted(downs)]


def union_find(edges: Iterable[Edge]) -> dict[str, str]:
    """Component label (its smallest node) of every node on `edges`, in sorted node order."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for u, v in edges:
        ru, rv = find(u), find(v)
        if ru != rv:
            low, high = (ru, rv) if ru < rv else (rv, ru)
            parent[high] = low
        parent.setdefault(u, u)
        parent.setdefault(v, v)
    return {node: find(node) for node in sorted(parent)}


def final_label(node: str, parent: str, fixed: Mapping[str, str]) -> str:
    """A node's component label: union-find's when its component was unfinished, else
    its star parent's (the parent of a star node is its component's root)."""
    return fixed.get(node, fixed.get(parent, parent))


def components_record(rounds: int, edges: int, residual_edges: int) -> dict[str, Any]:
    """The `components` output: how far the unrolled rounds got on their own."""
    return {"rounds": rounds, "edges": edges, "residual_edges": residual_edges}
