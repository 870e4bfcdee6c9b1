#!/usr/bin/env python3
"""Time Vigil's scan against hashdeep on one folder, warm page cache.

Run through scan-vs-peers.sh (which builds the binaries). For every run it
records wall time, the CPU time of the measured process tree
(getrusage(RUSAGE_CHILDREN)), and the CPU time everything else on the
machine used meanwhile (from /proc/stat), because the project machine is
shared: per-core figures are work per CPU-second of the measured tool, which
contention barely affects; wall figures only mean something when the
"others" column is near zero.

    scan_vs_peers.py FOLDER --scan BIN --limit BIN [--runs 3] [--skip-slow]
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def proc_stat_busy():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run(cmd, stdout=subprocess.DEVNULL):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0 = proc_stat_busy()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    b1 = proc_stat_busy()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{cmd} failed: {p.stderr}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    others = max(0.0, (b1 - b0) - cpu)
    return wall, cpu, others / wall, p.stderr


def folder_totals(folder):
    files = size = 0
    for dirpath, _dirs, names in os.walk(folder):
        for n in names:
            p = os.path.join(dirpath, n)
            if os.path.isfile(p) and not os.path.islink(p):
                files += 1
                size += os.path.getsize(p)
    return files, size


def warm(folder):
    subprocess.run(
        f"find '{folder}' -type f -print0 | xargs -0 cat > /dev/null", shell=True, check=True
    )


def check_same_digests(folder, scan_bin):
    """hashdeep and Vigil must agree on every file (compare as multisets of
    size+digests, so path quoting differences do not matter)."""
    hd = subprocess.run(
        ["hashdeep", "-r", "-c", "md5,sha1,sha256", folder], capture_output=True, text=True, check=True
    ).stdout
    ours = subprocess.run([scan_bin, folder, "--csv"], capture_output=True, text=True, check=True).stdout
    key = lambda line: ",".join(line.split(",")[:4])
    a = sorted(key(l) for l in hd.splitlines() if l and not l.startswith(("%", "#")))
    b = sorted(key(l) for l in ours.splitlines() if l)
    return a == b, len(a), len(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--scan", required=True)
    ap.add_argument("--limit", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured runs per case (default 1)")
    ap.add_argument("--skip-slow", action="store_true", help="skip hashdeep -j0 (single core)")
    args = ap.parse_args()

    files, size = folder_totals(args.folder)
    mb = size / 1e6
    print(f"folder: {files} files, {size} bytes ({mb:.0f} MB)")
    print(f"machine: {os.cpu_count()} CPUs; load average {os.getloadavg()}")
    warm(args.folder)

    same, n_hd, n_ours = check_same_digests(args.folder, args.scan)
    print(f"digests identical to hashdeep: {same} ({n_hd} vs {n_ours} files)")

    print("\n## CPU limit (hash_limit example, in-memory buffer)\n")
    limit = subprocess.run([args.limit, "256", "2"], capture_output=True, text=True, check=True).stdout
    print("```\n" + limit.rstrip() + "\n```")

    cases = [
        ("hashdeep -r -c md5,sha1,sha256 (default threads)", ["hashdeep", "-r", "-c", "md5,sha1,sha256", args.folder]),
    ]
    if not args.skip_slow:
        cases.append(("hashdeep -j0 (1 thread)", ["hashdeep", "-j0", "-r", "-c", "md5,sha1,sha256", args.folder]))
    for t in (1, 2):
        cases.append((f"vigil scan, {t} thread(s), digests+type+PDQ", [args.scan, args.folder, "--threads", str(t)]))
        cases.append((f"vigil scan, {t} thread(s), digests+type, no PDQ", [args.scan, args.folder, "--threads", str(t), "--no-pdq"]))

    print(f"\n## Scan runs (median of {args.runs} after {args.warmup} warm-up run(s))\n")
    print("| tool | wall s | CPU s | others' cores | MB/s wall | files/s wall | MB per CPU-s |")
    print("|---|---|---|---|---|---|---|")
    for label, cmd in cases:
        for _ in range(args.warmup):
            run(cmd)
        rows = [run(cmd) for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        others = statistics.median(r[2] for r in rows)
        print(
            f"| {label} | {wall:.2f} | {cpu:.2f} | {others:.2f} | {mb / wall:.0f} | "
            f"{files / wall:.0f} | {mb / cpu:.0f} |"
        )
        last = rows[-1][3].strip().splitlines()
        if last and "files=" in last[-1]:
            print(f"<!-- {last[-1]} -->")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
