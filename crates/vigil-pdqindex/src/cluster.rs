//! Series clustering: single-link grouping of a set of PDQ hashes.

use vigil_domain::PdqHash;

use crate::error::IndexError;
use crate::index::PdqIndex;

/// One series: the ids of its members, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cluster {
    pub members: Vec<i64>,
}

impl Cluster {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// Groups `items` by single-link clustering at `radius`: two items are in the
/// same cluster iff a chain of items joins them with every step at distance
/// `<= radius`. That is the connected components of the radius graph, found
/// with union–find over radius queries against a [`PdqIndex`] of the set
/// itself (built with item positions as ids, so duplicate caller ids are
/// harmless), in query chunks so that memory stays bounded even when large
/// near-duplicate groups make every answer long.
///
/// Every item is in exactly one cluster (singletons included; filter with
/// `len() >= 2` for series). Output is deterministic: members ascending;
/// clusters by size descending, then by their member lists.
pub fn cluster_series(items: &[(i64, PdqHash)], radius: u32) -> Result<Vec<Cluster>, IndexError> {
    let n = items.len();
    let index = PdqIndex::build(items.iter().enumerate().map(|(i, &(_, h))| (i as i64, h)))?;
    let hashes: Vec<PdqHash> = items.iter().map(|&(_, h)| h).collect();
    let mut uf = UnionFind::new(n);
    const CHUNK: usize = 4096;
    for (c, chunk) in hashes.chunks(CHUNK).enumerate() {
        let answers = index.query_batch(chunk, radius);
        for (k, matches) in answers.into_iter().enumerate() {
            let i = c * CHUNK + k;
            for m in matches {
                // Ids are positions 0..n by construction.
                uf.union(i, m.id as usize);
            }
        }
    }
    let mut groups: Vec<Vec<i64>> = vec![Vec::new(); n];
    for (i, &(id, _)) in items.iter().enumerate() {
        let root = uf.find(i);
        groups[root].push(id);
    }
    let mut clusters: Vec<Cluster> = groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|mut members| {
            members.sort_unstable();
            Cluster { members }
        })
        .collect();
    clusters.sort_unstable_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then_with(|| a.members.cmp(&b.members))
    });
    Ok(clusters)
}

/// Union–find with path halving and union by size.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}
