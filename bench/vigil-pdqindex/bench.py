#!/usr/bin/env python3
"""Data set generator and FAISS baselines for the vigil-pdqindex benchmark.

  python3 bench.py gen   --n 10000000 --out /tmp/pdqbench10m
  python3 bench.py faiss --dir /tmp/pdqbench10m --nq 2000 [--skip-mih]

`gen` writes (fixed seed, raw bytes the Rust example reads):
  db.bin       n x 32 bytes: 90 % uniform random hashes, 10 % perturbed copies
               of cluster centres (1 % of the rows are centres; each copy has
               1..40 distinct random bits flipped, uniform)
  queries.bin  10,000 x 32 bytes, shuffled: 5,000 stored rows with 0..31
               distinct bits flipped (should match) and 5,000 fresh random
               hashes (should not; a random pair is ~128 +- 8 bits apart)

`faiss` times, on the first --nq queries, FAISS IndexBinaryFlat and HMA's own
index (python-threatexchange PDQMultiHashIndex: IndexBinaryIDMap2 over
IndexBinaryMultiHash(256, nhash=16, b=16), nflip = 31 // 16 = 1), both with
range_search(radius=32) because FAISS keeps distances strictly below the
radius (so 32 means <= 31). It records build time, RSS growth, queries per
CPU-second with 1 and 2 OpenMP threads, and writes the flat index's answers
as truth.txt ("query_index row distance" lines) for the Rust recall check.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

SEED = 20261129
NQ = 10_000


def gen(n, out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    db = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    n_copies = n // 10
    n_centres = max(1, n // 100)
    # centres are random rows; copies overwrite other random rows
    perm = rng.permutation(n)
    centres = perm[:n_centres]
    copies = perm[n_centres:n_centres + n_copies]
    src = centres[rng.integers(0, n_centres, size=n_copies)]
    ks = rng.integers(1, 41, size=n_copies)
    chunk = 100_000
    for s in range(0, n_copies, chunk):
        e = min(n_copies, s + chunk)
        db[copies[s:e]] = flip_rows(rng, db[src[s:e]], ks[s:e])
    # queries: near-duplicates of stored rows, and random hashes
    half = NQ // 2
    qsrc = rng.integers(0, n, size=half)
    qk = rng.integers(0, 32, size=half)
    near = flip_rows(rng, db[qsrc], qk)
    rand = rng.integers(0, 256, size=(NQ - half, 32), dtype=np.uint8)
    q = np.concatenate([near, rand])
    order = rng.permutation(NQ)
    q = q[order]
    # sanity: planted distances
    d = popcount_rows(np.bitwise_xor(near, db[qsrc]))
    assert (d == qk).all()
    db.tofile(os.path.join(out, "db.bin"))
    q.tofile(os.path.join(out, "queries.bin"))
    meta = dict(seed=SEED, n=n, centres=int(n_centres), copies=int(n_copies),
                queries=NQ, near=half)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)
    print(json.dumps(meta))


def flip_rows(rng, rows, ks):
    """rows (m, 32) uint8 with exactly ks[i] distinct bits flipped in row i."""
    m = rows.shape[0]
    keys = rng.random((m, 256), dtype=np.float32)
    pos = np.argsort(keys, axis=1)[:, :64]
    take = np.arange(64)[None, :] < ks[:, None]
    bits = np.zeros((m, 256), dtype=np.uint8)
    r_idx = np.repeat(np.arange(m)[:, None], 64, axis=1)[take]
    bits[r_idx, pos[take]] = 1
    mask = np.packbits(bits, axis=1)
    return np.bitwise_xor(rows, mask)


def popcount_rows(x):
    return np.unpackbits(x, axis=1).sum(axis=1)


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_s():
    t = os.times()
    return t.user + t.system


def timed(fn):
    w0, c0 = time.perf_counter(), cpu_s()
    r = fn()
    return r, time.perf_counter() - w0, cpu_s() - c0


def faiss_bench(d, nq, skip_mih):
    import faiss

    db = np.fromfile(os.path.join(d, "db.bin"), dtype=np.uint8).reshape(-1, 32)
    q = np.fromfile(os.path.join(d, "queries.bin"), dtype=np.uint8).reshape(-1, 32)[:nq]
    n = db.shape[0]
    ids = np.arange(n, dtype=np.int64)
    out = dict(n=n, nq=nq, faiss=faiss.__version__, results=[])

    def run(name, make, truth=False):
        faiss.omp_set_num_threads(2)
        r0 = rss_bytes()
        index, bw, bc = timed(lambda: make())
        mem = rss_bytes() - r0
        rec = dict(index=name, build_wall_s=bw, build_cpu_s=bc, rss_delta_bytes=mem,
                   bytes_per_hash=mem / n)
        for th in (1, 2):
            faiss.omp_set_num_threads(th)
            (lims, D, I), w, c = timed(lambda: index.range_search(q, 32))
            rec[f"t{th}_wall_s"] = w
            rec[f"t{th}_cpu_s"] = c
            rec[f"t{th}_q_per_cpu_s"] = nq / c
            rec[f"t{th}_q_per_wall_s"] = nq / w
            rec["results"] = int(lims[-1])
        if truth:
            with open(os.path.join(d, "truth.txt"), "w") as f:
                for i in range(nq):
                    for j in range(lims[i], lims[i + 1]):
                        f.write(f"{i} {int(I[j])} {int(D[j])}\n")
        print(json.dumps(rec), flush=True)
        out["results"].append(rec)
        del index

    def flat():
        idx = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(256))
        idx.add_with_ids(db, ids)
        return idx

    def mih():
        base = faiss.IndexBinaryMultiHash(256, 16, 16)
        idx = faiss.IndexBinaryIDMap2(base)
        idx.add_with_ids(db, ids)
        base.nflip = 1
        return idx

    run("faiss IndexBinaryFlat (IDMap2)", flat, truth=True)
    if not skip_mih:
        run("HMA: IndexBinaryMultiHash(256,16,16) nflip=1 (IDMap2)", mih)
    with open(os.path.join(d, "faiss.json"), "w") as f:
        json.dump(out, f, indent=1)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--n", type=int, required=True)
    g.add_argument("--out", required=True)
    f = sub.add_parser("faiss")
    f.add_argument("--dir", required=True)
    f.add_argument("--nq", type=int, default=2000)
    f.add_argument("--skip-mih", action="store_true")
    a = p.parse_args()
    if a.cmd == "gen":
        gen(a.n, a.out)
    else:
        faiss_bench(a.dir, a.nq, a.skip_mih)


if __name__ == "__main__":
    sys.exit(main())
