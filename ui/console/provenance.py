"""The picture of a deposit's provenance: a networkx graph of its evidence, written as Graphviz DOT.

The deposit's receiving address, its sender, and the flagged sources that funded the sender
(hop 2) or the sender itself when flagged (hop 1), with USD on the edges; unflagged funding
is one aggregated node, so the picture never claims more than the evidence holds.
"""

from __future__ import annotations

from decimal import Decimal

import networkx as nx

from graph import chains

MICRO = Decimal(1_000_000)


def _short(address: str) -> str:
    return f"{address[:8]}…{address[-4:]}"


def provenance_graph(case: dict, exposures: list[dict]) -> nx.DiGraph:
    """Nodes carry `label` and `kind` (deposit, sender, flagged, other); edges carry `usd` and `label`."""
    graph = nx.DiGraph()
    chain = case.get("chain") or chains.DEFAULT
    sender, receiver = chains.wallet_key(chain, case["from_address"]), chains.wallet_key(chain, case["to_address"])
    graph.add_node(receiver, kind="deposit", label=f"deposit address\n{_short(receiver)}\n({case['customer_id']})")
    graph.add_node(sender, kind="sender", label=f"sender\n{_short(sender)}")
    value = None if case["usd_value"] is None else Decimal(case["usd_value"])
    graph.add_edge(sender, receiver, usd=value, label="USD unknown" if value is None else f"${value:,.2f}")
    funded_total = Decimal(0)
    flagged_total = Decimal(0)
    for exposure in exposures:
        evidence = exposure.get("evidence") or {}
        category = exposure["category"]
        if exposure["hop"] == 1:
            graph.nodes[sender]["kind"] = "flagged"
            graph.nodes[sender]["label"] += f"\nflagged: {category}"
            continue
        funded_total = max(funded_total, Decimal(evidence.get("total_usd_micro", 0)) / MICRO)
        for source in evidence.get("sources", []):
            usd = Decimal(source["usd_micro"]) / MICRO
            node = source["address"]
            if node not in graph:
                listed_as = (source.get("lists") or [""])[0][:40]
                graph.add_node(node, kind="flagged", label=f"{_short(node)}\n{category}\n{listed_as}".rstrip())
                flagged_total += usd
            elif category not in graph.nodes[node]["label"]:
                graph.nodes[node]["label"] += f", {category}"
            if not graph.has_edge(node, sender):
                unknown = source.get("unpriced_transfers", 0)
                graph.add_edge(node, sender, usd=usd, label=f"${usd:,.2f}" + (f" + {unknown} unpriced" if unknown else ""))
        listed = evidence.get("source_count", 0) - len(evidence.get("sources", []))
        if listed > 0:
            graph.add_node(f"more-{category}", kind="flagged", label=f"{listed} more flagged sources\n{category}")
            graph.add_edge(f"more-{category}", sender, usd=None, label="")
    rest = funded_total - flagged_total
    if rest > 0:
        graph.add_node("other", kind="other", label="other funders\n(not flagged)")
        graph.add_edge("other", sender, usd=rest, label=f"${rest:,.2f}")
    return graph


STYLE = {"deposit": 'shape=box, style="rounded,filled", fillcolor="#dbeafe"',
         "sender": 'shape=box, style="rounded,filled", fillcolor="#f3f4f6"',
         "flagged": 'shape=box, style="rounded,filled", fillcolor="#fecaca", color="#b91c1c", penwidth=2',
         "other": 'shape=box, style="rounded,dashed", color="#9ca3af"'}


def to_dot(graph: nx.DiGraph) -> str:
    """Graphviz DOT for the picture, left to right, flagged sources highlighted."""
    ids = {node: f"n{i}" for i, node in enumerate(graph.nodes)}

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ["digraph provenance {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for node, data in graph.nodes(data=True):
        lines.append(f"  {ids[node]} [label={quoted(data['label'])}, {STYLE[data['kind']]}];")
    for a, b, data in graph.edges(data=True):
        lines.append(f"  {ids[a]} -> {ids[b]} [label={quoted(data['label'])}];")
    lines.append("}")
    return "\n".join(lines)
