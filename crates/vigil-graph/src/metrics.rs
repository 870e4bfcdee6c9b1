//! Centralities on an [`AnalysisGraph`]: degree, betweenness, PageRank, plus
//! the communities (see [`crate::community`]).
//!
//! Where the algorithm comes from:
//! * **Betweenness** is Brandes' algorithm, written here over the CSR
//!   adjacency: from every node (exact) or from `k` pivot sources rescaled by
//!   `n/k` (as networkx's `betweenness_centrality(k=...)` and igraph's subset
//!   betweenness do). rustworkx-core 0.18 has exact Brandes but no sampling,
//!   and exact Brandes is `O(n·m)`, hours on a 100k-node, 1M-edge network.
//!   We also use our own for the exact case because it measured about 3×
//!   less CPU than rustworkx-core's (5k nodes / 47k edges: 4.5 vs 13.9 CPU-s,
//!   see `examples/sampling_quality.rs`). rustworkx-core's routine stays
//!   available as [`rustworkx_betweenness`], the independent oracle the tests
//!   compare against.
//! * **PageRank** is written here too: petgraph 0.8's `page_rank` is
//!   `O(n²)` per iteration (it scans all node pairs), unusable beyond a few
//!   thousand nodes. Ours is the usual power iteration over the adjacency,
//!   weighted, with networkx's stopping rule (L1 change < n·tol) and dangling
//!   mass spread uniformly.
//!
//! Normalisation follows networkx so numbers can be checked against it:
//! betweenness normalised by `(n−1)(n−2)` for an undirected graph (each pair
//! counted once), degree centrality by `n−1`, PageRank sums to 1.

use rayon::prelude::*;

use crate::community::{Communities, louvain};
use crate::rng::SplitMix64;
use crate::view::{AnalysisGraph, View};

/// How to compute betweenness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BetweennessMode {
    /// Exact Brandes (rustworkx-core). `O(n·m)`.
    Exact,
    /// Brandes from `pivots` sources drawn with `seed`; exact when
    /// `pivots >= n`.
    Sampled {
        /// Number of sources.
        pivots: usize,
        /// Seed for drawing them.
        seed: u64,
    },
    /// Do not compute (all zeros).
    Skip,
}

/// Options for [`compute_metrics`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricsOptions {
    /// Betweenness mode. Default: 1,024 pivots (exact below that size).
    pub betweenness: BetweennessMode,
    /// PageRank damping factor (0.85).
    pub damping: f64,
    /// PageRank tolerance per node (1e-8; stop when L1 change < n·tol).
    pub pagerank_tol: f64,
    /// PageRank iteration cap (200).
    pub pagerank_max_iter: usize,
    /// Use evidence weights in PageRank and Louvain (true).
    pub weighted: bool,
    /// Louvain seed (node visiting order).
    pub louvain_seed: u64,
    /// Modularity resolution (1.0).
    pub resolution: f64,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions {
            betweenness: BetweennessMode::Sampled {
                pivots: 1024,
                seed: 0x5eed,
            },
            damping: 0.85,
            pagerank_tol: 1e-8,
            pagerank_max_iter: 200,
            weighted: true,
            louvain_seed: 0x5eed,
            resolution: 1.0,
        }
    }
}

/// Per-analysis-node metrics; vectors are indexed by analysis node.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Metrics {
    /// Which view they were computed on.
    pub view: View,
    /// Number of distinct neighbours.
    pub degree: Vec<u32>,
    /// `degree / (n − 1)`.
    pub degree_centrality: Vec<f64>,
    /// Sum of incident edge weights.
    pub strength: Vec<f64>,
    /// Normalised betweenness (exact or estimated; see `betweenness_pivots`).
    pub betweenness: Vec<f64>,
    /// Number of sources used for betweenness (`n` when exact, 0 if skipped).
    pub betweenness_pivots: usize,
    /// PageRank (sums to 1).
    pub pagerank: Vec<f64>,
    /// PageRank iterations used.
    pub pagerank_iterations: usize,
    /// Louvain communities and modularity.
    pub communities: Communities,
}

impl Metrics {
    /// Whether these metrics were computed on an analysis graph shaped like
    /// `ag` (same view, one value per node in every vector). Every consumer
    /// checks this before indexing, since the fields are public.
    pub fn fits(&self, ag: &AnalysisGraph) -> bool {
        let n = ag.node_count();
        self.view == ag.view()
            && self.degree.len() == n
            && self.degree_centrality.len() == n
            && self.strength.len() == n
            && self.betweenness.len() == n
            && self.pagerank.len() == n
            && self.communities.membership.len() == n
            && self
                .communities
                .membership
                .iter()
                .all(|&c| (c as usize) < self.communities.count)
    }
}

/// Compute every metric. Deterministic given the options.
pub fn compute_metrics(g: &AnalysisGraph, opts: &MetricsOptions) -> Metrics {
    let n = g.node_count();
    let degree: Vec<u32> = (0..n).map(|v| g.degree(v) as u32).collect();
    let denom = if n > 1 { (n - 1) as f64 } else { 1.0 };
    let degree_centrality = degree.iter().map(|&d| d as f64 / denom).collect();
    let strength = (0..n)
        .map(|v| g.neighbors(v).1.iter().map(|&e| g.weight(e as usize)).sum())
        .collect();
    let (betweenness, betweenness_pivots) = match opts.betweenness {
        BetweennessMode::Skip => (vec![0.0; n], 0),
        BetweennessMode::Exact => (exact_betweenness(g), n),
        BetweennessMode::Sampled { pivots, .. } if pivots >= n => (exact_betweenness(g), n),
        BetweennessMode::Sampled { pivots, seed } => {
            let src = pivot_sources(n, pivots, seed);
            (sampled_betweenness(g, &src), src.len())
        }
    };
    let (pagerank, pagerank_iterations) = pagerank(
        g,
        opts.damping,
        opts.pagerank_tol,
        opts.pagerank_max_iter,
        opts.weighted,
    );
    let communities = louvain(g, opts.louvain_seed, opts.resolution, opts.weighted);
    Metrics {
        view: g.view(),
        degree,
        degree_centrality,
        strength,
        betweenness,
        betweenness_pivots,
        pagerank,
        pagerank_iterations,
        communities,
    }
}

/// Exact normalised betweenness: Brandes from every node.
pub fn exact_betweenness(g: &AnalysisGraph) -> Vec<f64> {
    let all: Vec<u32> = (0..g.node_count() as u32).collect();
    sampled_betweenness(g, &all)
}

/// Exact normalised betweenness computed by rustworkx-core (parallel
/// Brandes), kept as an independent reference for tests and benchmarks.
pub fn rustworkx_betweenness(g: &AnalysisGraph) -> Vec<f64> {
    let pg = g.to_petgraph();
    rustworkx_core::centrality::betweenness_centrality(&pg, false, true, 50)
        .into_iter()
        .map(|x| x.unwrap_or(0.0))
        .collect()
}

/// The `k` distinct pivot sources drawn for `seed` (a partial Fisher–Yates
/// shuffle), sorted. Public so that a benchmark can hand the very same
/// sources to another library.
pub fn pivot_sources(n: usize, k: usize, seed: u64) -> Vec<u32> {
    let k = k.min(n);
    let mut all: Vec<u32> = (0..n as u32).collect();
    let mut rng = SplitMix64::new(seed);
    for i in 0..k {
        let j = i + rng.below(n - i);
        all.swap(i, j);
    }
    all.truncate(k);
    all.sort_unstable();
    all
}

/// Betweenness from the given sources (unweighted shortest paths), rescaled
/// by `n/k` and normalised like networkx. Parallel over fixed chunks of
/// sources, summed in chunk order, so the result does not depend on the
/// number of threads.
///
/// Memory layout, for speed on large graphs: nodes are first renumbered in
/// breadth-first order (neighbours then tend to sit close together in
/// memory), and each node's distance, path count and dependency live side by
/// side in one record, so a visit touches one cache line instead of three.
/// On the 100k/1M synthetic benchmark (whose edges are random within rooms,
/// so little locality exists to recover) the gain was within measurement
/// noise (27.2 → 26.3 CPU-s on a loaded machine); the renumbering costs one
/// pass over the edges.
pub fn sampled_betweenness(g: &AnalysisGraph, sources: &[u32]) -> Vec<f64> {
    let n = g.node_count();
    if n < 3 || sources.is_empty() {
        return vec![0.0; n];
    }
    let adj = Bfs::new(g);
    const CHUNKS: usize = 32;
    let chunk = sources.len().div_ceil(CHUNKS).max(1);
    let partials: Vec<Vec<f64>> = sources
        .par_chunks(chunk)
        .map(|srcs| {
            let mut acc = vec![0.0f64; n];
            let mut st = vec![
                NodeState {
                    dist: -1,
                    sigma: 0.0,
                    delta: 0.0
                };
                n
            ];
            let mut order: Vec<u32> = Vec::with_capacity(n);
            for &s in srcs {
                let s = adj.new_of[s as usize] as usize;
                brandes_from(&adj, s, &mut st, &mut order);
                for &w in &order {
                    let w = w as usize;
                    if w != s {
                        acc[w] += st[w].delta;
                    }
                    st[w] = NodeState {
                        dist: -1,
                        sigma: 0.0,
                        delta: 0.0,
                    };
                }
                order.clear();
            }
            acc
        })
        .collect();
    let mut bc = vec![0.0f64; n];
    for p in partials {
        for (old, b) in bc.iter_mut().enumerate() {
            *b += p[adj.new_of[old] as usize];
        }
    }
    let scale = (n as f64 / sources.len() as f64) / ((n - 1) as f64 * (n - 2) as f64);
    for b in &mut bc {
        *b *= scale;
    }
    bc
}

#[derive(Clone, Copy)]
struct NodeState {
    dist: i32,
    sigma: f64,
    delta: f64,
}

/// Adjacency renumbered in breadth-first order (see `sampled_betweenness`).
struct Bfs {
    new_of: Vec<u32>,
    off: Vec<usize>,
    nbr: Vec<u32>,
}

impl Bfs {
    fn new(g: &AnalysisGraph) -> Bfs {
        let n = g.node_count();
        let mut new_of = vec![u32::MAX; n];
        let mut old_of: Vec<u32> = Vec::with_capacity(n);
        for start in 0..n {
            if new_of[start] != u32::MAX {
                continue;
            }
            new_of[start] = old_of.len() as u32;
            old_of.push(start as u32);
            let mut head = old_of.len() - 1;
            while head < old_of.len() {
                let v = old_of[head] as usize;
                head += 1;
                for &u in g.neighbors(v).0 {
                    if new_of[u as usize] == u32::MAX {
                        new_of[u as usize] = old_of.len() as u32;
                        old_of.push(u);
                    }
                }
            }
        }
        let mut off = Vec::with_capacity(n + 1);
        let mut nbr = Vec::with_capacity(2 * g.edge_count());
        off.push(0);
        for &old in &old_of {
            let from = nbr.len();
            nbr.extend(
                g.neighbors(old as usize)
                    .0
                    .iter()
                    .map(|&u| new_of[u as usize]),
            );
            nbr[from..].sort_unstable();
            off.push(nbr.len());
        }
        Bfs { new_of, off, nbr }
    }
    fn neighbors(&self, v: usize) -> &[u32] {
        &self.nbr[self.off[v]..self.off[v + 1]]
    }
}

/// One Brandes source: BFS recording order and path counts, then the
/// dependency accumulation (predecessors recomputed from distances instead
/// of stored, to keep memory at O(n) per thread).
fn brandes_from(adj: &Bfs, s: usize, st: &mut [NodeState], order: &mut Vec<u32>) {
    st[s].dist = 0;
    st[s].sigma = 1.0;
    order.push(s as u32);
    let mut head = 0;
    while head < order.len() {
        let v = order[head] as usize;
        head += 1;
        let dv = st[v].dist;
        let sv = st[v].sigma;
        for &w in adj.neighbors(v) {
            let x = &mut st[w as usize];
            if x.dist < 0 {
                x.dist = dv + 1;
                order.push(w);
            }
            if x.dist == dv + 1 {
                x.sigma += sv;
            }
        }
    }
    for &w in order.iter().rev() {
        let w = w as usize;
        let dw = st[w].dist;
        let coeff = (1.0 + st[w].delta) / st[w].sigma;
        for &v in adj.neighbors(w) {
            let x = &mut st[v as usize];
            if x.dist == dw - 1 {
                x.delta += x.sigma * coeff;
            }
        }
    }
}

/// Weighted (or unweighted) PageRank on the undirected analysis graph.
/// Returns the scores and the number of iterations used.
pub fn pagerank(
    g: &AnalysisGraph,
    damping: f64,
    tol: f64,
    max_iter: usize,
    weighted: bool,
) -> (Vec<f64>, usize) {
    let n = g.node_count();
    if n == 0 {
        return (Vec::new(), 0);
    }
    let w = |e: u32| if weighted { g.weight(e as usize) } else { 1.0 };
    let strength: Vec<f64> = (0..n)
        .map(|v| g.neighbors(v).1.iter().map(|&e| w(e)).sum())
        .collect();
    let nf = n as f64;
    let mut x = vec![1.0 / nf; n];
    let mut next = vec![0.0; n];
    let mut iters = 0;
    for it in 0..max_iter {
        iters = it + 1;
        let dangling: f64 = (0..n).filter(|&v| strength[v] == 0.0).map(|v| x[v]).sum();
        let base = (1.0 - damping) / nf + damping * dangling / nf;
        // Pull formulation: each node sums its neighbours' shares, so the
        // loop parallelises without atomics.
        next.par_iter_mut().enumerate().for_each(|(v, out)| {
            let (nb, es) = g.neighbors(v);
            let mut s = 0.0;
            for (&u, &e) in nb.iter().zip(es) {
                let u = u as usize;
                s += x[u] * w(e) / strength[u];
            }
            *out = base + damping * s;
        });
        let err: f64 = next.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut x, &mut next);
        if err < nf * tol {
            break;
        }
    }
    (x, iters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path5() -> AnalysisGraph {
        AnalysisGraph::from_edge_list(5, &[(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 4, 1.0)])
    }

    #[test]
    fn betweenness_of_a_path_matches_networkx() {
        // networkx.betweenness_centrality(nx.path_graph(5)):
        // {0: 0, 1: 0.5, 2: 0.6667, 3: 0.5, 4: 0}
        let bc = exact_betweenness(&path5());
        assert_eq!(bc.len(), 5);
        let rw = rustworkx_betweenness(&path5());
        for (a, b) in bc.iter().zip(&rw) {
            assert!((a - b).abs() < 1e-12);
        }
        let want = [0.0, 0.5, 2.0 / 3.0, 0.5, 0.0];
        for (a, b) in bc.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{bc:?}");
        }
    }

    #[test]
    fn sampled_with_all_pivots_equals_rustworkx_exact() {
        let g = crate::synthetic::random_clustered(300, 1500, 6, 3);
        let exact = rustworkx_betweenness(&g);
        let all: Vec<u32> = (0..g.node_count() as u32).collect();
        let sampled = sampled_betweenness(&g, &all);
        for (a, b) in exact.iter().zip(&sampled) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }

    #[test]
    fn pivots_are_distinct_sorted_and_seeded() {
        let p = pivot_sources(1000, 100, 9);
        assert_eq!(p.len(), 100);
        assert!(p.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(p, pivot_sources(1000, 100, 9));
        assert_ne!(p, pivot_sources(1000, 100, 10));
        assert_eq!(pivot_sources(5, 10, 1), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn pagerank_of_a_star_favours_the_centre_and_sums_to_one() {
        let g =
            AnalysisGraph::from_edge_list(5, &[(0, 1, 1.0), (0, 2, 1.0), (0, 3, 1.0), (0, 4, 1.0)]);
        let (pr, _) = pagerank(&g, 0.85, 1e-10, 500, true);
        let sum: f64 = pr.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9);
        // closed form: c = 0.132 / 0.2775 (c = 0.03 + 3.4 l, l = 0.03 + 0.2125 c)
        assert!((pr[0] - 0.132 / 0.2775).abs() < 1e-8, "{pr:?}");
        assert!(pr[1..].iter().all(|&p| (p - pr[1]).abs() < 1e-12));
    }
}
