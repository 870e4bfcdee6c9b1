#!/usr/bin/env python3
"""Generate a synthetic "seized device" folder for scan benchmarks.

Layout imitates a Windows user profile plus a phone dump (nested folders,
names with spaces, browser caches, camera folders). Content is entirely
synthetic:

* images: procedurally generated JPEGs and PNGs of varied dimensions
  (gradients, sinusoid patterns, checkerboards, noise); never photographs;
* small files (cache entries, thumbnails, documents): random bytes or
  invented text;
* video-sized files: random bytes, 5-50 MB by default.

Deterministic for a given --seed and arguments. Writes only under OUT, which
must not exist or be empty. Never commit its output.

    python3 bench/scan/make_seized.py OUT [--files 20000] [--images 6000]
        [--videos 40] [--seed 20261129]
"""

import argparse
import io
import math
import os
import random
import sys

import numpy as np
from PIL import Image

USERS = ["jdoe", "m.sample", "admin"]
CAMERA_MODELS = ["DCIM/Camera", "DCIM/100ANDRO", "WhatsApp/Media/WhatsApp Images",
                 "Telegram/Telegram Images"]


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


_NOISE = {}


def noise_tile(nrng, level):
    """A 512x512 noise tile per level, drawn once: per-image noise is a random
    window of it, which keeps generation cheap (a few ms per picture)."""
    if level not in _NOISE:
        _NOISE[level] = nrng.normal(0, level, size=(512, 512, 3)).astype(np.int16)
    return _NOISE[level]


def image_pixels(rng, nrng, w, h):
    """A procedural RGB picture: one of several pattern families plus noise.
    Patterns are computed on a coarse grid and resized, then fine noise is
    added, so pictures differ in structure and in their high frequencies."""
    kind = rng.randrange(4)
    cw, ch = max(2, w // 8), max(2, h // 8)
    y, x = np.mgrid[0:ch, 0:cw].astype(np.float32) * 8
    if kind == 0:  # linear gradients per channel
        chans = [np.mod(x * rng.uniform(0.05, 0.5) + y * rng.uniform(0.05, 0.5), 256) for _ in range(3)]
    elif kind == 1:  # sinusoid interference
        chans = [127 + 120 * np.sin(x / rng.uniform(20, 200) + y / rng.uniform(20, 200) + rng.uniform(0, 6))
                 for _ in range(3)]
    elif kind == 2:  # checkerboard with a radial vignette
        s = rng.randint(32, 256)
        cb = (((x // s) + (y // s)) % 2) * 200 + 20
        r = np.hypot(x - w / 2, y - h / 2) / max(w, h)
        chans = [cb * (1 - r) * rng.uniform(0.5, 1) for _ in range(3)]
    else:  # smooth blobs
        chans = [nrng.uniform(0, 255, size=(ch, cw)).astype(np.float32) for _ in range(3)]
    coarse = np.clip(np.stack(chans, axis=-1), 0, 255).astype(np.uint8)
    img = Image.fromarray(coarse, "RGB").resize((w, h), Image.BILINEAR)
    level = rng.choice([0, 3, 8, 20])
    if level:
        tile = noise_tile(nrng, level)
        reps = (h // 512 + 2, w // 512 + 2, 1)
        oy, ox = rng.randrange(512), rng.randrange(512)
        window = np.tile(tile, reps)[oy:oy + h, ox:ox + w]
        arr = np.asarray(img, dtype=np.int16) + window
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return img


def encode_image(rng, nrng, fmt):
    if rng.random() < 0.2:  # thumbnails and chat-app previews
        w, h = rng.randint(96, 320), rng.randint(96, 320)
    else:
        w = rng.choice([640, 800, 1024, 1024, 1280, 1600])
        h = int(w * rng.choice([0.5625, 0.75, 1.0, 1.333]))
    img = image_pixels(rng, nrng, w, h)
    buf = io.BytesIO()
    if fmt == "jpeg":
        img.save(buf, "JPEG", quality=rng.choice([70, 80, 85, 90, 95]))
    else:
        img.save(buf, "PNG", compress_level=rng.choice([1, 6]))
    return buf.getvalue()


def image_dir(rng):
    user = rng.choice(USERS)
    r = rng.random()
    if r < 0.4:
        year = rng.randint(2014, 2024)
        return f"Users/{user}/Pictures/{year}/{year}-{rng.randint(1, 12):02d}"
    if r < 0.7:
        return f"Phone dump/Internal storage/{rng.choice(CAMERA_MODELS)}"
    if r < 0.85:
        return f"Users/{user}/Downloads/{rng.choice(['', 'new folder/', 'misc/old/'])}".rstrip("/")
    return f"Users/{user}/AppData/Local/Temp/{rng.randrange(1000):03d}"


def small_dir(rng):
    user = rng.choice(USERS)
    r = rng.random()
    if r < 0.5:
        return (f"Users/{user}/AppData/Local/Google/Chrome/User Data/Default/Cache/Cache_Data/"
                f"{rng.randrange(16):x}")
    if r < 0.7:
        return f"Users/{user}/AppData/Roaming/Mozilla/Firefox/Profiles/x1y2z3.default/cache2/entries"
    if r < 0.85:
        return f"Phone dump/Internal storage/DCIM/.thumbnails/{rng.randrange(8)}"
    return f"Users/{user}/Documents/{rng.choice(['', 'work', 'letters', 'scans/2019'])}".rstrip("/")


WORDS = ("the of meeting report example invoice delivery account folder agenda project "
         "synthetic notes draft review summary schedule").split()


def small_content(rng, nrng):
    size = log_uniform(rng, 1_000, 50_000)
    if rng.random() < 0.3:
        words = [rng.choice(WORDS) for _ in range(size // 6)]
        return (" ".join(words) + "\n").encode()[:size]
    return nrng.integers(0, 256, size=size, dtype=np.uint8).tobytes()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=20_000, help="total files (default 20000)")
    ap.add_argument("--images", type=int, default=6_000, help="of which images (default 6000)")
    ap.add_argument("--videos", type=int, default=40, help="of which video-sized (default 40)")
    ap.add_argument("--video-mb", type=float, nargs=2, default=(5, 50), metavar=("MIN", "MAX"))
    ap.add_argument("--png-share", type=float, default=0.15, help="share of images that are PNG")
    ap.add_argument("--seed", type=int, default=20261129)
    args = ap.parse_args()

    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit(f"{args.out} exists and is not empty; refusing to write into it")
    rng = random.Random(args.seed)
    nrng = np.random.default_rng(args.seed)
    used = set()
    total_bytes = 0

    def put(rel_dir, name, data):
        nonlocal total_bytes
        path = os.path.join(args.out, rel_dir, name)
        while path in used:
            stem, ext = os.path.splitext(name)
            name = f"{stem}_{rng.randrange(10**6)}{ext}"
            path = os.path.join(args.out, rel_dir, name)
        used.add(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        total_bytes += len(data)

    n_small = args.files - args.images - args.videos
    if n_small < 0:
        sys.exit("--images + --videos exceed --files")
    plan = ["image"] * args.images + ["video"] * args.videos + ["small"] * n_small
    rng.shuffle(plan)
    for i, kind in enumerate(plan):
        if kind == "image":
            fmt = "png" if rng.random() < args.png_share else "jpeg"
            data = encode_image(rng, nrng, fmt)
            ext = {"jpeg": ".jpg", "png": ".png"}[fmt]
            if rng.random() < 0.03:  # renamed to hide: type must come from magic bytes
                ext = rng.choice([".dat", ".dll", ".tmp", ""])
            name = rng.choice(["IMG_{:05d}", "Screenshot {:05d}", "photo {:05d}", "{:08x}"]).format(
                rng.randrange(100_000)) + ext
            put(image_dir(rng), name, data)
        elif kind == "video":
            size = int(rng.uniform(*args.video_mb) * 1_000_000)
            name = f"VID_{rng.randrange(100_000):05d}{rng.choice(['.mp4', '.avi', '.mkv', '.mov'])}"
            user = rng.choice(USERS)
            d = rng.choice([f"Users/{user}/Videos", "Phone dump/Internal storage/DCIM/Camera"])
            put(d, name, nrng.integers(0, 256, size=size, dtype=np.uint8).tobytes())
        else:
            name = rng.choice(["f_{:06x}", "{:016X}", "doc {:04d}.txt", "thumb_{:05d}"]).format(
                rng.randrange(1 << 24))
            put(small_dir(rng), name, small_content(rng, nrng))
        if (i + 1) % 2000 == 0:
            print(f"{i + 1}/{len(plan)} files, {total_bytes / 1e6:.0f} MB", file=sys.stderr)
    print(f"wrote {len(plan)} files, {total_bytes} bytes under {args.out}")


if __name__ == "__main__":
    main()
