#!/usr/bin/env python3
"""Run python-igraph on the graph that `graph_bench` (vigil-graph) wrote and
compare: same edge list, same betweenness pivot sources, same weights.

Usage: igraph_bench.py OUT_DIR   (the directory graph_bench wrote to)
Prints a Markdown section; also writes OUT_DIR/igraph.json.
"""
import json
import random
import sys
import time

import igraph as ig

out = sys.argv[1]
with open(f"{out}/edges.tsv") as f:
    n = int(f.readline())
    edges, weights = [], []
    for line in f:
        a, b, w = line.split("\t")
        edges.append((int(a), int(b)))
        weights.append(float(w))
pivots = [int(x) for x in open(f"{out}/pivots.txt").read().split()]
vig = json.load(open(f"{out}/vigil.json"))
vmem = [int(x) for x in open(f"{out}/vigil_membership.txt").read().split()]


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    r = fn()
    return r, time.perf_counter() - w, time.process_time() - c


g, tw, tc = timed(lambda: ig.Graph(n=n, edges=edges, directed=False))
g.es["weight"] = weights
rows = [("igraph: build Graph from edge list", tw, tc)]

bc, tw, tc = timed(lambda: g.betweenness(directed=False, sources=pivots))
rows.append((f"igraph: subset betweenness, {len(pivots)} sources", tw, tc))
pr, tw, tc = timed(lambda: g.pagerank(directed=False, weights="weight", damping=0.85))
rows.append(("igraph: PageRank weighted (PRPACK)", tw, tc))
random.seed(1)
cl, tw, tc = timed(lambda: g.community_multilevel(weights="weight"))
rows.append((f"igraph: Louvain/multilevel weighted ({len(cl)} communities)", tw, tc))

q_ig = g.modularity(cl.membership, weights="weight")
q_vig_by_ig = g.modularity(vmem, weights="weight")


def top(v, k=20):
    return sorted(range(len(v)), key=lambda i: (-v[i], i))[:k]


tb_i, tp_i = top(bc), top(pr)
tb_v, tp_v = vig["top20_betweenness"], vig["top20_pagerank"]
# Scale: igraph's subset betweenness is unnormalised; vigil's is networkx's
# normalisation times n/k. Compare after fitting the constant.
k = len(pivots)
scale = (n / k) / ((n - 1) * (n - 2))
vb = vig["betweenness"]
max_rel_b = max(
    (abs(vb[i] - bc[i] * scale * 2) / vb[i] for i in range(n) if vb[i] > 1e-12), default=0.0
)
max_rel_b_half = max(
    (abs(vb[i] - bc[i] * scale) / vb[i] for i in range(n) if vb[i] > 1e-12), default=0.0
)
vp = vig["pagerank"]
max_abs_p = max(abs(a - b) for a, b in zip(vp, pr))

res = {
    "rows": rows,
    "top20_betweenness_overlap": len(set(tb_i) & set(tb_v)),
    "top20_pagerank_overlap": len(set(tp_i) & set(tp_v)),
    "betweenness_max_rel_diff_x2": max_rel_b,
    "betweenness_max_rel_diff_x1": max_rel_b_half,
    "pagerank_max_abs_diff": max_abs_p,
    "modularity_igraph": q_ig,
    "modularity_vigil": vig["modularity"],
    "modularity_vigil_partition_by_igraph": q_vig_by_ig,
    "communities_igraph": len(cl),
    "communities_vigil": vig["communities"],
    "igraph_version": ig.__version__,
}
json.dump(res, open(f"{out}/igraph.json", "w"), indent=1)

print(f"graph: {n} nodes, {g.ecount()} undirected edges; python-igraph {ig.__version__}\n")
print("| step | wall s | CPU s |\n|---|---|---|")
for t in vig["timings"]:
    print(f"| vigil: {t['step']} | {t['wall_s']:.2f} | {t['cpu_s']:.2f} |")
for name, w, c in rows:
    print(f"| {name} | {w:.2f} | {c:.2f} |")
print()
print(f"- top-20 betweenness overlap (same {k} sources): {res['top20_betweenness_overlap']}/20")
print(f"- betweenness max relative difference per node: "
      f"{min(max_rel_b, max_rel_b_half):.2e}")
print(f"- top-20 PageRank overlap: {res['top20_pagerank_overlap']}/20; "
      f"max |Δ| per node {max_abs_p:.2e}")
print(f"- modularity: vigil {vig['modularity']:.4f} ({vig['communities']} communities), "
      f"igraph {q_ig:.4f} ({len(cl)} communities); vigil's partition scored by igraph "
      f"{q_vig_by_ig:.4f}; difference {100 * (vig['modularity'] - q_ig) / q_ig:+.2f} %")
