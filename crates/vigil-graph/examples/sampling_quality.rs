//! How close is sampled betweenness to exact? Builds the synthetic offender
//! network at 1/SCALE of the benchmark size (default 10: 10k nodes, 100k
//! edges), computes exact betweenness (rustworkx-core, and ours from every
//! node, timing both) and sampled
//! betweenness for several pivot counts and seeds, and prints the overlap of
//! the top-20 nodes. Used to choose `MetricsOptions`' default pivot count.
//!
//! Run: `cargo run --release -p vigil-graph --example sampling_quality -- [SCALE]`

use std::collections::HashSet;
use std::time::Instant;

use vigil_graph::metrics::{pivot_sources, rustworkx_betweenness, sampled_betweenness};
use vigil_graph::synthetic::{SyntheticSpec, offender_network};
use vigil_graph::{AnalysisGraph, ViewOptions};

/// (user + system) CPU seconds of this process (Linux /proc, 100 Hz ticks).
fn cpu_secs() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(after) = s.rfind(')').map(|i| &s[i + 2..]) else {
        return 0.0;
    };
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn top(v: &[f64], k: usize) -> HashSet<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
    idx.into_iter().take(k).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scale: usize = std::env::args().nth(1).map_or(Ok(10), |s| s.parse())?;
    let mut spec = SyntheticSpec::bench();
    spec.persons /= scale;
    spec.handles /= scale;
    spec.rooms /= scale;
    spec.scenes = (spec.scenes / scale).max(2);
    spec.devices /= scale;
    spec.target_edges /= scale;
    let g = offender_network(&spec).build()?;
    for view in [vigil_graph::View::Raw, vigil_graph::View::Person] {
        let ag = AnalysisGraph::new(
            &g,
            ViewOptions {
                view,
                include_candidate_same_as: false,
            },
        );
        let (t, c) = (Instant::now(), cpu_secs());
        let exact = rustworkx_betweenness(&ag);
        let (rw_wall, rw_cpu) = (t.elapsed().as_secs_f64(), cpu_secs() - c);
        let all: Vec<u32> = (0..ag.node_count() as u32).collect();
        let (t, c) = (Instant::now(), cpu_secs());
        let own = sampled_betweenness(&ag, &all);
        let (own_wall, own_cpu) = (t.elapsed().as_secs_f64(), cpu_secs() - c);
        let diff = exact
            .iter()
            .zip(&own)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max);
        println!(
            "{view:?} view: {} nodes, {} edges. Exact betweenness: rustworkx-core \
             {rw_wall:.1} s wall / {rw_cpu:.1} CPU-s; vigil Brandes from every node \
             {own_wall:.1} s wall / {own_cpu:.1} CPU-s; max |diff| {diff:.1e}\n",
            ag.node_count(),
            ag.edge_count(),
        );
        let want = top(&exact, 20);
        println!("| pivots | top-20 overlap, seeds 1..5 |\n|---|---|");
        for k in [64, 128, 256, 512, 1024] {
            let overlaps: Vec<String> = (1..=5)
                .map(|seed| {
                    let s = sampled_betweenness(&ag, &pivot_sources(ag.node_count(), k, seed));
                    want.intersection(&top(&s, 20)).count().to_string()
                })
                .collect();
            println!("| {k} | {} |", overlaps.join(", "));
        }
    }
    Ok(())
}
