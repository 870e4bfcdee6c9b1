#!/usr/bin/env python3
"""Bit-exactness oracle and peer timing for vigil-pdq.

PyPI `pdqhash` 0.2.8 (Meta's C++ hashing core) fed Pillow-decoded pixels
(Pillow bundles libjpeg-turbo; islow + fancy upsampling by default) after a
CImg-style nearest-neighbour resize to exactly 512x512 when a side exceeds
512. pdq.md shows this equals the reference `pdq-photo-hasher` 1000/1000.

Usage: oracle.py DIR OUT_TSV
Writes: file, hash, quality, orig..flipminus1 (the 8 dihedral hashes).
Prints img/CPU-s for the whole pipeline (decode + resize + hash).
"""
import os
import sys
import time

import numpy as np
import pdqhash
from PIL import Image


def to_hex(bits):
    # pdqhash returns the bits in printing order reversed: bit k at index 255-k.
    words = [0] * 16
    for k, b in enumerate(bits[::-1]):
        if b:
            words[k >> 4] |= 1 << (k & 15)
    return "".join(f"{w:04x}" for w in reversed(words))


def sample(path):
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGB"))
    h, w = a.shape[:2]
    if w > 512 or h > 512:
        ys = (np.arange(512) * h) // 512
        xs = (np.arange(512) * w) // 512
        a = np.ascontiguousarray(a[ys][:, xs])
    return a


def main():
    d, out = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(d) if not n.endswith(".tsv"))
    blobs = {}
    for n in names:
        with open(os.path.join(d, n), "rb") as f:
            blobs[n] = f.read()
    rows = []
    import io
    c0, w0 = time.process_time(), time.perf_counter()
    for n in names:
        with Image.open(io.BytesIO(blobs[n])) as im:
            a = np.asarray(im.convert("RGB"))
        h, w = a.shape[:2]
        if w > 512 or h > 512:
            ys = (np.arange(512) * h) // 512
            xs = (np.arange(512) * w) // 512
            a = np.ascontiguousarray(a[ys][:, xs])
        bits, q = pdqhash.compute(a)
        rows.append((n, to_hex(bits), q, a))
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    print(f"pdqhash 0.2.8 + Pillow + NN-512: {len(names) / cpu:.1f} img/CPU-s, "
          f"{len(names) / wall:.1f} img/wall-s")
    with open(out, "w") as f:
        f.write("file\thash\tquality\torig\trot90\trot180\trot270\tflipx\tflipy\tflipplus1\tflipminus1\n")
        for n, hx, q, a in rows:
            dih, q2 = pdqhash.compute_dihedral(a)
            f.write("\t".join([n, hx, str(q)] + [to_hex(v) for v in dih]) + "\n")


if __name__ == "__main__":
    main()
