//! Communities: Louvain modularity optimisation (Blondel et al. 2008) and
//! the modularity of a partition.
//!
//! Written here because no released graph crate has it (rustworkx-core 0.18
//! has no community module; its Louvain exists only on an unreleased branch).
//!
//! Determinism: the only randomness is the order nodes are visited in each
//! local-moving pass, drawn from the seed with an in-house generator; ties
//! between equally good moves keep the node where it is, or else take the
//! community met first. Communities are numbered by their first node in
//! analysis-node order, so the same graph and seed always give the same
//! labels.
//!
//! Louvain can leave a community internally disconnected (a node that held
//! it together moves away in a later pass; Traag et al. 2019 call these
//! badly connected communities). As a final step each community is split
//! into its connected parts. That never lowers modularity (two parts with no
//! edge between them lose no internal weight, and the penalty term shrinks)
//! and guarantees what an analyst assumes when reading a chart: everyone in
//! a community is connected to the others through the community.
//!
//! Modularity with resolution γ: `Q = Σ_c [ L_c / m − γ (K_c / 2m)² ]`, with
//! `L_c` the weight inside community `c`, `K_c` the summed strength of its
//! nodes and `m` the total weight (igraph's and networkx's definition, so the
//! numbers compare directly).

use crate::rng::SplitMix64;
use crate::view::AnalysisGraph;

/// A partition of the analysis nodes.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Communities {
    /// Community of each analysis node, numbered `0..count` by first node.
    pub membership: Vec<u32>,
    /// Number of communities.
    pub count: usize,
    /// Modularity of the partition on the input graph.
    pub modularity: f64,
    /// Aggregation levels Louvain went through.
    pub levels: usize,
}

/// Weighted graph with self-loops, as the aggregation levels need.
struct Level {
    off: Vec<usize>,
    nbr: Vec<u32>,
    w: Vec<f64>,
    /// Weight of the self-loop (internal weight of an aggregated community).
    self_w: Vec<f64>,
}

impl Level {
    fn n(&self) -> usize {
        self.off.len() - 1
    }
    fn strength(&self, v: usize) -> f64 {
        2.0 * self.self_w[v] + self.w[self.off[v]..self.off[v + 1]].iter().sum::<f64>()
    }
}

fn first_level(g: &AnalysisGraph, weighted: bool) -> Level {
    let n = g.node_count();
    let mut off = vec![0usize; n + 1];
    let mut nbr = Vec::with_capacity(2 * g.edge_count());
    let mut w = Vec::with_capacity(2 * g.edge_count());
    for v in 0..n {
        let (nb, es) = g.neighbors(v);
        nbr.extend_from_slice(nb);
        w.extend(
            es.iter()
                .map(|&e| if weighted { g.weight(e as usize) } else { 1.0 }),
        );
        off[v + 1] = nbr.len();
    }
    Level {
        off,
        nbr,
        w,
        self_w: vec![0.0; n],
    }
}

/// Renumber labels `0..k` by first appearance; returns k.
fn canonical(labels: &mut [u32]) -> usize {
    let mut map: Vec<u32> = vec![u32::MAX; labels.len().max(1)];
    let mut next = 0u32;
    for l in labels.iter_mut() {
        let m = &mut map[*l as usize];
        if *m == u32::MAX {
            *m = next;
            next += 1;
        }
        *l = *m;
    }
    next as usize
}

/// One local-moving phase; returns the labels and whether anything moved.
fn local_moving(lv: &Level, resolution: f64, rng: &mut SplitMix64) -> (Vec<u32>, bool) {
    let n = lv.n();
    let k: Vec<f64> = (0..n).map(|v| lv.strength(v)).collect();
    let m2: f64 = k.iter().sum();
    let mut comm: Vec<u32> = (0..n as u32).collect();
    if m2 <= 0.0 {
        return (comm, false);
    }
    let mut tot = k.clone();
    let mut order: Vec<u32> = (0..n as u32).collect();
    rng.shuffle(&mut order);
    let mut nw = vec![0.0f64; n];
    let mut touched: Vec<u32> = Vec::new();
    let mut any = false;
    loop {
        let mut moved = 0usize;
        for &v in &order {
            let v = v as usize;
            let cv = comm[v] as usize;
            for i in lv.off[v]..lv.off[v + 1] {
                let c = comm[lv.nbr[i] as usize] as usize;
                if nw[c] == 0.0 {
                    touched.push(c as u32);
                }
                nw[c] += lv.w[i];
            }
            tot[cv] -= k[v];
            let scale = resolution * k[v] / m2;
            let mut best = cv;
            let mut best_gain = nw[cv] - scale * tot[cv];
            for &c in &touched {
                let c = c as usize;
                let gain = nw[c] - scale * tot[c];
                if gain > best_gain + 1e-12 {
                    best = c;
                    best_gain = gain;
                }
            }
            tot[best] += k[v];
            if best != cv {
                comm[v] = best as u32;
                moved += 1;
            }
            for &c in &touched {
                nw[c as usize] = 0.0;
            }
            touched.clear();
        }
        if moved == 0 {
            break;
        }
        any = true;
    }
    (comm, any)
}

fn aggregate(lv: &Level, comm: &[u32], count: usize) -> Level {
    let mut self_w = vec![0.0f64; count];
    let mut pairs: Vec<(u32, u32, f64)> = Vec::new();
    for v in 0..lv.n() {
        let cv = comm[v];
        self_w[cv as usize] += lv.self_w[v];
        for i in lv.off[v]..lv.off[v + 1] {
            let u = lv.nbr[i] as usize;
            if u < v {
                continue; // each undirected edge once
            }
            let cu = comm[u];
            if cu == cv {
                self_w[cv as usize] += lv.w[i];
            } else {
                pairs.push((cv.min(cu), cv.max(cu), lv.w[i]));
            }
        }
    }
    pairs.sort_unstable_by_key(|a| (a.0, a.1));
    let mut merged: Vec<(u32, u32, f64)> = Vec::new();
    for (a, b, w) in pairs {
        match merged.last_mut() {
            Some(l) if l.0 == a && l.1 == b => l.2 += w,
            _ => merged.push((a, b, w)),
        }
    }
    let mut off = vec![0usize; count + 1];
    for &(a, b, _) in &merged {
        off[a as usize + 1] += 1;
        off[b as usize + 1] += 1;
    }
    for i in 0..count {
        off[i + 1] += off[i];
    }
    let mut fill = off[..count].to_vec();
    let mut nbr = vec![0u32; 2 * merged.len()];
    let mut w = vec![0.0f64; 2 * merged.len()];
    for &(a, b, x) in &merged {
        let (a, b) = (a as usize, b as usize);
        nbr[fill[a]] = b as u32;
        w[fill[a]] = x;
        fill[a] += 1;
        nbr[fill[b]] = a as u32;
        w[fill[b]] = x;
        fill[b] += 1;
    }
    Level {
        off,
        nbr,
        w,
        self_w,
    }
}

/// Louvain communities of the analysis graph. `weighted` uses the evidence
/// weights; `resolution` is γ (1.0 for classic modularity).
pub fn louvain(g: &AnalysisGraph, seed: u64, resolution: f64, weighted: bool) -> Communities {
    let n = g.node_count();
    let mut membership: Vec<u32> = (0..n as u32).collect();
    let mut rng = SplitMix64::new(seed);
    let mut lv = first_level(g, weighted);
    let mut levels = 0;
    loop {
        let (mut comm, moved) = local_moving(&lv, resolution, &mut rng);
        if !moved {
            break;
        }
        levels += 1;
        let count = canonical(&mut comm);
        for m in membership.iter_mut() {
            *m = comm[*m as usize];
        }
        if count == lv.n() {
            break;
        }
        lv = aggregate(&lv, &comm, count);
    }
    split_disconnected(g, &mut membership);
    let count = canonical(&mut membership);
    let q = modularity(g, &membership, resolution, weighted);
    Communities {
        membership,
        count,
        modularity: q,
        levels,
    }
}

/// Relabel so that every community is connected: BFS inside each label.
/// New labels are the index of the first node of each part (then made
/// contiguous by the caller).
fn split_disconnected(g: &AnalysisGraph, membership: &mut [u32]) {
    let n = g.node_count();
    let mut part = vec![u32::MAX; n];
    let mut queue: Vec<u32> = Vec::new();
    for start in 0..n {
        if part[start] != u32::MAX {
            continue;
        }
        let label = membership[start];
        part[start] = start as u32;
        queue.clear();
        queue.push(start as u32);
        let mut head = 0;
        while head < queue.len() {
            let v = queue[head] as usize;
            head += 1;
            for &u in g.neighbors(v).0 {
                let u = u as usize;
                if part[u] == u32::MAX && membership[u] == label {
                    part[u] = start as u32;
                    queue.push(u as u32);
                }
            }
        }
    }
    membership.copy_from_slice(&part);
}

/// Modularity of `membership` (one label per analysis node) on `g`. Labels
/// need not be contiguous but must be `< n`; out-of-range labels give `NaN`.
pub fn modularity(g: &AnalysisGraph, membership: &[u32], resolution: f64, weighted: bool) -> f64 {
    let n = g.node_count();
    if membership.len() != n || membership.iter().any(|&c| c as usize >= n.max(1)) {
        return f64::NAN;
    }
    let mut inside = vec![0.0f64; n.max(1)];
    let mut tot = vec![0.0f64; n.max(1)];
    let mut m = 0.0;
    for e in 0..g.edge_count() {
        let (a, b) = g.ends(e);
        let w = if weighted { g.weight(e) } else { 1.0 };
        m += w;
        let (ca, cb) = (
            membership[a as usize] as usize,
            membership[b as usize] as usize,
        );
        tot[ca] += w;
        tot[cb] += w;
        if ca == cb {
            inside[ca] += w;
        }
    }
    if m <= 0.0 {
        return 0.0;
    }
    inside
        .iter()
        .zip(&tot)
        .map(|(l, k)| l / m - resolution * (k / (2.0 * m)).powi(2))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 5-cliques joined by one edge.
    fn barbell() -> AnalysisGraph {
        let mut e = Vec::new();
        for base in [0u32, 5] {
            for i in 0..5 {
                for j in i + 1..5 {
                    e.push((base + i, base + j, 1.0));
                }
            }
        }
        e.push((4, 5, 1.0));
        AnalysisGraph::from_edge_list(10, &e)
    }

    #[test]
    fn louvain_splits_a_barbell_in_two() {
        let g = barbell();
        let c = louvain(&g, 1, 1.0, true);
        assert_eq!(c.count, 2);
        assert_eq!(c.membership, vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
        // networkx.community.modularity(barbell, [{0..4},{5..9}]) = 0.4523809...
        assert!((c.modularity - 0.452_380_952_380_952_3).abs() < 1e-12);
    }

    #[test]
    fn louvain_is_deterministic_for_a_seed() {
        let g = crate::synthetic::random_clustered(2000, 12000, 20, 5);
        let a = louvain(&g, 42, 1.0, true);
        let b = louvain(&g, 42, 1.0, true);
        assert_eq!(a, b);
        assert!(
            a.modularity > 0.5,
            "planted clusters should be found: {}",
            a.modularity
        );
        assert!((modularity(&g, &a.membership, 1.0, true) - a.modularity).abs() < 1e-12);
    }

    #[test]
    fn communities_are_connected() {
        for seed in 0..5 {
            let g = crate::synthetic::random_clustered(800, 2400, 12, seed);
            let c = louvain(&g, seed, 1.0, true);
            // Each community must be one connected component of its own
            // induced subgraph.
            let mut seen = vec![false; g.node_count()];
            let mut comps_per_label = vec![0usize; c.count];
            for s in 0..g.node_count() {
                if seen[s] {
                    continue;
                }
                comps_per_label[c.membership[s] as usize] += 1;
                let mut q = vec![s];
                seen[s] = true;
                while let Some(v) = q.pop() {
                    for &u in g.neighbors(v).0 {
                        let u = u as usize;
                        if !seen[u] && c.membership[u] == c.membership[v] {
                            seen[u] = true;
                            q.push(u);
                        }
                    }
                }
            }
            assert!(comps_per_label.iter().all(|&k| k == 1), "seed {seed}");
        }
    }

    #[test]
    fn disconnected_parts_are_split() {
        // Two triangles with no edge between them, forced into one label.
        let g = AnalysisGraph::from_edge_list(
            6,
            &[
                (0, 1, 1.0),
                (1, 2, 1.0),
                (0, 2, 1.0),
                (3, 4, 1.0),
                (4, 5, 1.0),
                (3, 5, 1.0),
            ],
        );
        let mut m = vec![0u32; 6];
        let before = modularity(&g, &m, 1.0, true);
        split_disconnected(&g, &mut m);
        assert_eq!(m, vec![0, 0, 0, 3, 3, 3]);
        assert!(modularity(&g, &m, 1.0, true) > before);
    }

    #[test]
    fn modularity_of_single_community_is_zero() {
        let g = barbell();
        assert!(modularity(&g, &[0; 10], 1.0, true).abs() < 1e-12);
        assert!(modularity(&g, &[0; 3], 1.0, true).is_nan());
    }
}
