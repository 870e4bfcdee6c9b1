#!/usr/bin/env python3
"""Builds the vigil-pdq benchmark corpus: real scene/object photographs and
renders (no people) from Debian wallpaper packages, cropped, resized and
re-encoded with Pillow to JPEGs of 1-6 MP with mixed chroma subsampling,
about 15 % progressive. Written to a temp dir, never committed.

Usage: make_corpus.py OUT_DIR [COUNT] [MIN_MP MAX_MP]   (default 200, 1 6)

Sources: `apt-get download` of mate-backgrounds, ukui-wallpapers,
lomiri-wallpapers-20.04 and gnome-backgrounds (Debian 12), unpacked with
dpkg-deb. Deterministic for a given package set (fixed seed).
"""
import glob
import os
import random
import subprocess
import sys
import tempfile

from PIL import Image

PACKAGES = ["mate-backgrounds", "ukui-wallpapers", "lomiri-wallpapers-20.04", "gnome-backgrounds"]


def fetch_sources(work):
    debs = os.path.join(work, "debs")
    root = os.path.join(work, "root")
    os.makedirs(debs, exist_ok=True)
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True,
                   stdout=subprocess.DEVNULL)
    for deb in glob.glob(os.path.join(debs, "*.deb")):
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    files = sorted(
        f for f in glob.glob(os.path.join(root, "**", "*"), recursive=True)
        if f.lower().endswith((".jpg", ".jpeg", ".png", ".webp")) and os.path.isfile(f)
    )
    srcs = []
    for f in files:
        with Image.open(f) as im:
            # Skip thumbnails and near-flat fills: they say nothing about speed.
            if im.width * im.height < 1_000_000:
                continue
            small = im.convert("L").resize((64, 64))
            lo, hi = small.getextrema()
            if hi - lo < 24:
                continue
        srcs.append(f)
    return srcs


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    lo_mp = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    hi_mp = float(sys.argv[4]) if len(sys.argv) > 4 else 6.0
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261129)
    with tempfile.TemporaryDirectory() as work:
        srcs = fetch_sources(work)
        print(f"{len(srcs)} source images", file=sys.stderr)
        cache = {}
        total_px = total_bytes = progressive = 0
        subs = {0: 0, 1: 0, 2: 0}
        for i in range(count):
            src = srcs[i % len(srcs)]
            if src not in cache:
                cache.clear()
                cache[src] = Image.open(src).convert("RGB")
            im = cache[src]
            mp = rng.uniform(lo_mp, hi_mp)
            aspect = rng.choice([4 / 3, 3 / 2, 16 / 9, 3 / 4, 2 / 3, 1.0])
            # Random crop of at least half the source, then resize to target.
            cw = rng.randint(im.width // 2, im.width)
            ch = min(im.height, max(im.height // 2, int(cw / aspect)))
            x0 = rng.randint(0, im.width - cw)
            y0 = rng.randint(0, im.height - ch)
            crop = im.crop((x0, y0, x0 + cw, y0 + ch))
            h = int((mp * 1e6 / aspect) ** 0.5)
            w = int(h * aspect)
            img = crop.resize((w, h), Image.LANCZOS)
            sub = rng.choices([0, 1, 2], weights=[20, 15, 65])[0]  # 4:4:4, 4:2:2, 4:2:0
            prog = rng.random() < 0.15
            q = rng.randint(70, 95)
            path = os.path.join(out, f"img{i:04d}.jpg")
            img.save(path, "JPEG", quality=q, subsampling=sub, progressive=prog, optimize=prog)
            total_px += w * h
            total_bytes += os.path.getsize(path)
            progressive += prog
            subs[sub] += 1
        print(
            f"{count} JPEGs, mean {total_px / count / 1e6:.2f} MP, mean {total_bytes / count / 1e3:.0f} KB, "
            f"{progressive} progressive, 4:4:4/4:2:2/4:2:0 = {subs[0]}/{subs[1]}/{subs[2]}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
