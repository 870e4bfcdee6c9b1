//! Evaluates the linker on a synthetic population.
//!
//! `cargo run --release -p vigil-link --example evaluate -- [persons] [seed] [--sweep]`
//!
//! Defaults: 100 000 persons, seed 2 (seed 1 was used for tuning the weights).

use std::time::Instant;

use vigil_link::eval::{evaluate, reachable, sweep};
use vigil_link::synth::{SynthConfig, generate};
use vigil_link::{LinkConfig, Linker};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let persons: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let do_sweep = args.iter().any(|a| a == "--sweep");
    let t = Instant::now();
    let pop = generate(&SynthConfig { persons, seed });
    println!(
        "population: {} persons, {} individuals, {} true pairs, seed {seed} (generated in {:.2?})",
        pop.profiles.len(),
        pop.individual.last().map_or(0, |i| i + 1),
        pop.true_pairs().len(),
        t.elapsed()
    );
    let cfg = LinkConfig::default();
    let ev = evaluate(&pop, cfg.clone());
    let m = &ev.metrics;
    println!(
        "threshold {:.1} bits: predicted {}, true positives {}, precision {:.4}, recall {:.4}, F1 {:.4}",
        m.threshold, m.predicted, m.true_positives, m.precision, m.recall, m.f1
    );
    println!(
        "timing: normalise + index {:.2?}, candidate generation + scoring {:.2?} ({} blocks, {} oversized, {} pairs compared)",
        ev.index_time,
        ev.candidate_time,
        ev.report.stats.blocks,
        ev.report.stats.oversized_blocks,
        ev.report.stats.pairs_compared
    );
    println!(
        "true positives by strongest evidence: {:?}",
        ev.true_positives_by_kind
    );
    println!(
        "false positives by strongest evidence: {:?}",
        ev.false_positives_by_kind
    );
    for n in ev.report.notes.iter().take(5) {
        println!("note: {n}");
    }
    if do_sweep {
        let low = LinkConfig {
            threshold: 0.0,
            ..cfg.clone()
        };
        let linker = Linker::new(&pop.profiles, low);
        println!(
            "reachable (any positive evidence): {:.4}",
            reachable(&pop, &linker)
        );
        let report = linker.candidates();
        let ts: Vec<f64> = (4..=24).map(|t| t as f64).collect();
        for m in sweep(&pop, &report, &ts) {
            println!(
                "  t={:>4.1}  predicted {:>7}  precision {:.4}  recall {:.4}  F1 {:.4}",
                m.threshold, m.predicted, m.precision, m.recall, m.f1
            );
        }
        // A few false positives near the threshold, to see why.
        let truth: std::collections::HashSet<(i64, i64)> = pop.true_pairs().into_iter().collect();
        for c in report
            .candidates
            .iter()
            .filter(|c| !truth.contains(&(c.a, c.b)) && c.score >= cfg.threshold)
            .filter(|c| {
                std::env::var("VIGIL_FP_KIND").map_or(true, |k| {
                    c.evidence.first().is_some_and(|e| e.kind.as_str() == k)
                })
            })
            .step_by(7)
            .take(12)
        {
            print!("FP {}", c.explain());
        }
        let found: std::collections::HashSet<(i64, i64)> =
            ev.report.candidates.iter().map(|c| (c.a, c.b)).collect();
        let mut miss: Vec<_> = truth.iter().filter(|p| !found.contains(p)).collect();
        miss.sort();
        let mut by_kind: std::collections::BTreeMap<String, usize> = Default::default();
        for (a, b) in &miss {
            if let Some(c) = linker.score_pair(*a, *b) {
                let k: Vec<&str> = c
                    .evidence
                    .iter()
                    .filter(|e| e.weight > 0.0)
                    .map(|e| e.kind.as_str())
                    .collect();
                *by_kind
                    .entry(if k.is_empty() {
                        "none".into()
                    } else {
                        k.join("+")
                    })
                    .or_default() += 1;
            }
        }
        println!("missed true pairs by evidence present: {by_kind:?}");
        if std::env::var("VIGIL_DEBUG_NONE").is_ok() {
            let by_id: std::collections::HashMap<i64, &vigil_link::Profile> =
                pop.profiles.iter().map(|p| (p.person_id, p)).collect();
            for (a, b) in miss
                .iter()
                .filter(|(a, b)| {
                    linker
                        .score_pair(*a, *b)
                        .is_some_and(|c| c.evidence.iter().all(|e| e.weight <= 0.0))
                })
                .take(40)
            {
                let h = |id: &i64| {
                    by_id[id]
                        .handles
                        .iter()
                        .map(|h| h.raw.clone())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let x = |id: &i64| {
                    format!(
                        "e{} i{} m{} n{}",
                        by_id[id].emails.len(),
                        by_id[id].ips.len(),
                        by_id[id].media.len(),
                        by_id[id].nick_changes.len()
                    )
                };
                println!("NONE {a} [{}] {} | {b} [{}] {}", h(a), x(a), h(b), x(b));
            }
        }
        let fn_kind = std::env::var("VIGIL_FN_KIND").ok();
        let mut shown = 0;
        for (a, b) in miss.iter().step_by(13) {
            if let Some(c) = linker.score_pair(*a, *b) {
                let top = c.evidence.first().map_or("none", |e| e.kind.as_str());
                if fn_kind.as_deref().is_none_or(|k| k == top) && shown < 12 {
                    print!("FN {}", c.explain());
                    shown += 1;
                }
            }
        }
    }
}
