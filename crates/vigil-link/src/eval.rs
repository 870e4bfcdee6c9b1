//! Precision, recall and F1 of the candidates against a synthetic truth.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::config::LinkConfig;
use crate::evidence::{Candidate, EvidenceKind, LinkReport};
use crate::linker::Linker;
use crate::synth::Population;

/// Quality of one run at one threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub threshold: f64,
    pub persons: usize,
    pub true_pairs: usize,
    pub predicted: usize,
    pub true_positives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// A run: metrics at the configured threshold, timings, the report, and
/// diagnostics by evidence kind.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub metrics: Metrics,
    /// Normalising and indexing.
    pub index_time: Duration,
    /// Candidate generation and scoring.
    pub candidate_time: Duration,
    pub report: LinkReport,
    /// False positives by their strongest evidence kind.
    pub false_positives_by_kind: BTreeMap<&'static str, usize>,
    /// True positives by their strongest evidence kind.
    pub true_positives_by_kind: BTreeMap<&'static str, usize>,
}

fn metrics(
    threshold: f64,
    persons: usize,
    truth: &HashSet<(i64, i64)>,
    cands: &[&Candidate],
) -> Metrics {
    let predicted = cands.len();
    let tp = cands.iter().filter(|c| truth.contains(&(c.a, c.b))).count();
    let precision = if predicted == 0 {
        1.0
    } else {
        tp as f64 / predicted as f64
    };
    let recall = if truth.is_empty() {
        1.0
    } else {
        tp as f64 / truth.len() as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Metrics {
        threshold,
        persons,
        true_pairs: truth.len(),
        predicted,
        true_positives: tp,
        precision,
        recall,
        f1,
    }
}

fn top_kind(c: &Candidate) -> &'static str {
    c.evidence.first().map_or("none", |e| e.kind.as_str())
}

/// Runs the linker on a population and measures it.
pub fn evaluate(pop: &Population, cfg: LinkConfig) -> Evaluation {
    let threshold = cfg.threshold;
    let truth: HashSet<(i64, i64)> = pop.true_pairs().into_iter().collect();
    let t0 = Instant::now();
    let linker = Linker::new(&pop.profiles, cfg);
    let index_time = t0.elapsed();
    let t1 = Instant::now();
    let report = linker.candidates();
    let candidate_time = t1.elapsed();
    let cands: Vec<&Candidate> = report.candidates.iter().collect();
    let m = metrics(threshold, pop.profiles.len(), &truth, &cands);
    let mut fp = BTreeMap::new();
    let mut tp = BTreeMap::new();
    for c in &report.candidates {
        let map = if truth.contains(&(c.a, c.b)) {
            &mut tp
        } else {
            &mut fp
        };
        *map.entry(top_kind(c)).or_insert(0) += 1;
    }
    Evaluation {
        metrics: m,
        index_time,
        candidate_time,
        report,
        false_positives_by_kind: fp,
        true_positives_by_kind: tp,
    }
}

/// Metrics at several thresholds from one run made at a low threshold
/// (certain candidates count at every threshold).
pub fn sweep(pop: &Population, report: &LinkReport, thresholds: &[f64]) -> Vec<Metrics> {
    let truth: HashSet<(i64, i64)> = pop.true_pairs().into_iter().collect();
    thresholds
        .iter()
        .map(|&t| {
            let c: Vec<&Candidate> = report
                .candidates
                .iter()
                .filter(|c| c.certain || c.score >= t)
                .collect();
            metrics(t, pop.profiles.len(), &truth, &c)
        })
        .collect()
}

/// The share of true pairs that have at least one piece of positive
/// evidence at all (an upper bound on recall for any threshold), counted
/// with `score_pair` on every true pair.
pub fn reachable(pop: &Population, linker: &Linker) -> f64 {
    let truth = pop.true_pairs();
    if truth.is_empty() {
        return 1.0;
    }
    let n = truth
        .iter()
        .filter(|(a, b)| {
            linker.score_pair(*a, *b).is_some_and(|c| {
                c.evidence
                    .iter()
                    .any(|e| e.weight > 0.0 && e.kind != EvidenceKind::IpNotEvidence)
            })
        })
        .count();
    n as f64 / truth.len() as f64
}
