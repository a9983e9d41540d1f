"""The file dependency graph and the dependencies-first order a repository renders in.

Edges point from the importing file to the imported file. The order:
1. weakly connected components, each rendered contiguously, ordered by their smallest path;
2. inside a component, strongly connected components (import cycles) are condensed and laid
   out in topological order with dependencies first; ties (independent parts) go by the
   smallest path in each part, so the order is deterministic;
3. inside a cycle, files are placed greedily: next is the file with the fewest imports of
   still-unplaced cycle members (ties by path), which keeps back-references few.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

import networkx as nx

from longweave.schemas.meta import GraphStats
from longweave.sources.repos.resolve_base import FileImports


def build_graph(files: list[str], imports: Mapping[str, FileImports]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(files))
    for source in sorted(imports):
        if source not in graph:
            continue
        for target in sorted(imports[source].targets):
            if target in graph and target != source:
                graph.add_edge(source, target)
    return graph


def dependency_order(graph: nx.DiGraph) -> list[list[str]]:
    """Weakly connected components (by smallest path), each listed in dependency order."""
    components = sorted((sorted(c) for c in nx.weakly_connected_components(graph)),
                        key=lambda members: members[0])
    return [_component_order(graph.subgraph(members)) for members in components]


def _component_order(component: nx.DiGraph) -> list[str]:
    condensed = nx.condensation(component)
    first_path = {n: min(condensed.nodes[n]["members"]) for n in condensed}
    order: list[str] = []
    # In the reversed condensation, a part with no incoming edge imports nothing unplaced.
    for node in nx.lexicographical_topological_sort(condensed.reverse(copy=False),
                                                    key=first_path.__getitem__):
        members = condensed.nodes[node]["members"]
        order.extend(_cycle_order(component, members) if len(members) > 1 else members)
    return order


def _cycle_order(graph: nx.DiGraph, members: set[str]) -> list[str]:
    """Greedy: fewest imports of unplaced members first, ties by path (lazy heap)."""
    pending = {n: sum(1 for m in graph.successors(n) if m in members) for n in members}
    heap = [(count, node) for node, count in pending.items()]
    heapq.heapify(heap)
    placed: list[str] = []
    while heap:
        count, node = heapq.heappop(heap)
        if node not in pending or count != pending[node]:
            continue  # stale entry
        del pending[node]
        placed.append(node)
        for importer in graph.predecessors(node):
            if importer in pending:
                pending[importer] -= 1
                heapq.heappush(heap, (pending[importer], importer))
    return placed


def graph_stats(graph: nx.DiGraph, imports: Mapping[str, FileImports]) -> GraphStats:
    """Files, edges, resolved share, cycles, longest dependency chain (in edges).

    The number of weakly connected components is not repeated here: it is the length of
    the document's `components` list.
    """
    cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    external = sum(len(found.external) for found in imports.values())
    unresolved = sum(len(found.unresolved) for found in imports.values())
    conditional = sum(1 for source, found in imports.items() for target in found.conditional
                      if graph.has_edge(source, target))
    edges = graph.number_of_edges()
    condensed = nx.condensation(graph)
    named = edges + external + unresolved
    return {
        "files": graph.number_of_nodes(),
        "edges": edges,
        "conditional_edges": conditional,
        "external_imports": external,
        "unresolved_imports": unresolved,
        "resolved_share": round(edges / named, 4) if named else 0.0,
        "cycles": len(cycles),
        "files_in_cycles": sum(len(c) for c in cycles),
        "largest_cycle": max((len(c) for c in cycles), default=0),
        "longest_chain": nx.dag_longest_path_length(condensed) if len(condensed) else 0,
    }
