//! Benchmark: build a synthetic offender network (100k nodes, 1M edges by
//! default), derive the analysis graph, and time sampled betweenness,
//! PageRank, Louvain and the key-players report. Writes the analysis graph
//! as an edge list plus the pivots and results, so that
//! `bench/vigil-graph/igraph_bench.py` can run python-igraph on the very same
//! graph and sources.
//!
//! Run (release!): `cargo run --release -p vigil-graph --example graph_bench -- OUT_DIR [PIVOTS] [SCALE]`
//! where SCALE divides the default sizes (e.g. 10 for a 10k-node smoke run).

use std::fmt::Write as _;
use std::io::Write;
use std::time::Instant;

use vigil_graph::metrics::{pagerank, pivot_sources, sampled_betweenness};
use vigil_graph::synthetic::{SyntheticSpec, offender_network};
use vigil_graph::{
    AnalysisGraph, BetweennessMode, KeyPlayerOptions, MetricsOptions, View, ViewOptions,
    compute_metrics, louvain,
};

/// (user + system) CPU seconds of this process, from /proc (Linux only;
/// 0 elsewhere). Clock ticks assumed 100 Hz, the Linux default.
fn cpu_secs() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(after) = s.rfind(')').map(|i| &s[i + 2..]) else {
        return 0.0;
    };
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the comm.
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

struct Timer {
    wall: Instant,
    cpu: f64,
}
impl Timer {
    fn start() -> Self {
        Timer {
            wall: Instant::now(),
            cpu: cpu_secs(),
        }
    }
    fn stop(&self) -> (f64, f64) {
        (self.wall.elapsed().as_secs_f64(), cpu_secs() - self.cpu)
    }
}

fn top(v: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(args.get(1).map_or("/tmp/vigil-graph-bench", |s| s));
    let pivots: usize = args.get(2).map_or(Ok(500), |s| s.parse())?;
    let scale: usize = args.get(3).map_or(Ok(1), |s| s.parse())?;
    std::fs::create_dir_all(&out)?;
    let mut spec = SyntheticSpec::bench();
    spec.persons /= scale;
    spec.handles /= scale;
    spec.rooms /= scale;
    spec.scenes = (spec.scenes / scale).max(2);
    spec.devices /= scale;
    spec.target_edges /= scale;
    let mut timings: Vec<(String, f64, f64)> = Vec::new();

    let t = Timer::start();
    let data = offender_network(&spec);
    timings.push((
        "generate (not part of the library)".into(),
        t.stop().0,
        t.stop().1,
    ));
    let t = Timer::start();
    let g = data.build()?;
    let (w, c) = t.stop();
    timings.push((
        format!(
            "build OffenderGraph ({} observations → {} nodes, {} edges)",
            data.edges.len(),
            g.node_count(),
            g.edge_count()
        ),
        w,
        c,
    ));
    drop(data);
    let t = Timer::start();
    let ag = AnalysisGraph::new(
        &g,
        ViewOptions {
            view: View::Raw,
            include_candidate_same_as: false,
        },
    );
    let (w, c) = t.stop();
    timings.push((
        format!(
            "analysis graph, raw view ({} nodes, {} undirected edges)",
            ag.node_count(),
            ag.edge_count()
        ),
        w,
        c,
    ));
    let n = ag.node_count();
    let src = pivot_sources(n, pivots, 0x5eed);
    let t = Timer::start();
    let bc = sampled_betweenness(&ag, &src);
    let (w, c) = t.stop();
    timings.push((format!("betweenness, {} pivots (rayon)", src.len()), w, c));
    let t = Timer::start();
    let (pr, iters) = pagerank(&ag, 0.85, 1e-8, 200, true);
    let (w, c) = t.stop();
    timings.push((format!("PageRank weighted ({iters} iterations)"), w, c));
    let t = Timer::start();
    let comm = louvain(&ag, 0x5eed, 1.0, true);
    let (w, c) = t.stop();
    timings.push((
        format!(
            "Louvain weighted ({} communities, Q = {:.4}, {} levels)",
            comm.count, comm.modularity, comm.levels
        ),
        w,
        c,
    ));
    let t = Timer::start();
    let ap = AnalysisGraph::new(&g, ViewOptions::default());
    let mut o = KeyPlayerOptions::new(time::macros::datetime!(2026-12-31 00:00 UTC));
    o.metrics = MetricsOptions {
        betweenness: BetweennessMode::Sampled {
            pivots,
            seed: 0x5eed,
        },
        ..MetricsOptions::default()
    };
    let m = compute_metrics(&ap, &o.metrics);
    let r = vigil_graph::keyplayers::key_players_with(&g, &ap, &m, &o)?;
    let (w, c) = t.stop();
    timings.push((
        format!(
            "key-players report, person view ({} nodes; includes its own betweenness/PageRank/Louvain; top host {})",
            ap.node_count(),
            r.ranking.first().map_or("-", |p| p.player.key.as_str())
        ),
        w,
        c,
    ));

    // Files for the igraph side.
    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join("edges.tsv"))?);
    writeln!(f, "{n}")?;
    for e in 0..ag.edge_count() {
        let (a, b) = ag.ends(e);
        writeln!(f, "{a}\t{b}\t{}", ag.weight(e))?;
    }
    f.flush()?;
    std::fs::write(
        out.join("pivots.txt"),
        src.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )?;
    std::fs::write(
        out.join("vigil_membership.txt"),
        comm.membership
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )?;
    let result = serde_json::json!({
        "nodes": n,
        "edges": ag.edge_count(),
        "model_nodes": g.node_count(),
        "model_edges": g.edge_count(),
        "pivots": src.len(),
        "threads": rayon::current_num_threads(),
        "timings": timings.iter().map(|(k, w, c)| serde_json::json!({"step": k, "wall_s": w, "cpu_s": c})).collect::<Vec<_>>(),
        "top20_betweenness": top(&bc, 20),
        "top20_pagerank": top(&pr, 20),
        "betweenness": bc,
        "pagerank": pr,
        "modularity": comm.modularity,
        "communities": comm.count,
    });
    std::fs::write(out.join("vigil.json"), serde_json::to_vec(&result)?)?;
    let mut s = String::new();
    for (k, w, c) in &timings {
        writeln!(s, "| {k} | {w:.2} | {c:.2} |")?;
    }
    println!("| step | wall s | CPU s |\n|---|---|---|\n{s}");
    Ok(())
}
