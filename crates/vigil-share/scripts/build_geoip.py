#!/usr/bin/env python3
"""Convert Tor's IP-to-country range files into Vigil's compact `.vgeo` file.

Input: the two text files of Debian's `tor-geoipdb` package
(`/usr/share/tor/geoip`: `start_u32,end_u32,CC`; `/usr/share/tor/geoip6`:
`start_ip,end_ip,CC`). The data is the IPFire Location database, CC BY-SA 4.0.

Output format (documented in the crate's README and `geo::embedded`):

    b"VIGILGEO1\\n"
    one line of JSON (UTF-8) ending in b"\\n": provenance, the number of countries,
        segment counts and the SHA-256 of the compressed body
    zlib-compressed body:
        v4: N LEB128 varints (start of each segment, delta to the previous start)
            N x 2 bytes: ISO 3166-1 alpha-2 code in ASCII, or b"--" when the
            source knows no country for this segment
        v6: M LEB128 varints (u128 starts, delta-encoded the same way)
            M x 2 bytes: country code, as for v4

A segment runs from its start to the next segment's start minus one (the last
runs to the end of the address space). Ranges marked `??` and holes between
ranges become "--", so a lookup never claims a country the source did not.

Usage: build_geoip.py --geoip FILE --geoip6 FILE --package-version V --out FILE
Standard library only, deterministic output for the same input.
"""
import argparse
import email.utils
import hashlib
import ipaddress
import json
import re
import sys
import zlib

MAGIC = b"VIGILGEO1\n"


def load(path, v6):
    rows = []
    generated = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.startswith("#"):
                m = re.match(r"#\s*Generated:\s*(.+)$", line.strip())
                if m and generated is None:
                    generated = m.group(1).strip()
                continue
            line = line.strip()
            if not line:
                continue
            try:
                a, b, cc = line.split(",")
                if v6:
                    a, b = int(ipaddress.IPv6Address(a)), int(ipaddress.IPv6Address(b))
                else:
                    a, b = int(a), int(b)
            except ValueError as e:
                sys.exit(f"{path}:{lineno}: cannot parse {line!r}: {e}")
            if a > b:
                sys.exit(f"{path}:{lineno}: start after end")
            if cc != "??" and not re.fullmatch(r"[A-Z]{2}", cc):
                sys.exit(f"{path}:{lineno}: bad country code {cc!r}")
            rows.append((a, b, cc))
    rows.sort()
    return rows, generated


def segments(rows, path):
    """Turn sorted, non-overlapping ranges into (start, cc-or-None) breakpoints."""
    segs = [(0, None)]
    prev_end = -1
    for a, b, cc in rows:
        if a <= prev_end:
            sys.exit(f"{path}: overlapping ranges at {a}")
        cc = None if cc == "??" else cc
        if a != prev_end + 1 and segs[-1][1] is not None:
            segs.append((prev_end + 1, None))  # hole: unknown
        if segs[-1][1] != cc:
            if segs[-1][0] == a:
                segs[-1] = (a, cc)
            else:
                segs.append((a, cc))
        prev_end = b
    segs.append((prev_end + 1, None)) if segs[-1][1] is not None else None
    # Merging can leave two neighbours with the same value after a replace.
    out = []
    for s in segs:
        if out and out[-1][1] == s[1]:
            continue
        out.append(s)
    return out


def varint(n, out):
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--geoip", required=True)
    ap.add_argument("--geoip6", required=True)
    ap.add_argument("--package-version", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    v4rows, gen4 = load(args.geoip, False)
    v6rows, gen6 = load(args.geoip6, True)
    v4 = segments(v4rows, args.geoip)
    v6 = segments(v6rows, args.geoip6)
    if v6 and v6[-1][0] > (1 << 128) - 1:
        v6.pop()
    if v4 and v4[-1][0] > (1 << 32) - 1:
        v4.pop()
    countries = sorted({cc for _, cc in v4 + v6 if cc is not None})

    body = bytearray()
    for segs in (v4, v6):
        prev = 0
        for start, _ in segs:
            varint(start - prev, body)
            prev = start
        for _, cc in segs:
            body.extend((cc or "--").encode("ascii"))
    packed = zlib.compress(bytes(body), 9)

    if not gen4:
        sys.exit(f"{args.geoip}: no '# Generated:' header line; cannot date the data")
    date = email.utils.parsedate_to_datetime(gen4).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = {
        "format": "vigil-geo/1",
        "source": "tor-geoipdb",
        "source_package_version": args.package_version,
        "source_generated": gen4,
        "source_date": date,
        "source_generated_v6": gen6,
        "license": "CC BY-SA 4.0",
        "attribution": "IPFire Location database (location.ipfire.org), as exported "
        "by the Tor Project's geoip-db-tool and shipped in Debian's tor-geoipdb package",
        "countries": len(countries),
        "v4_segments": len(v4),
        "v6_segments": len(v6),
        "body_sha256": hashlib.sha256(packed).hexdigest(),
    }
    line = json.dumps(header, separators=(",", ":"), sort_keys=True).encode() + b"\n"
    with open(args.out, "wb") as f:
        f.write(MAGIC + line + packed)
    print(f"{args.out}: {len(v4)} v4 + {len(v6)} v6 segments, "
          f"{len(countries)} countries, {len(MAGIC) + len(line) + len(packed)} bytes, "
          f"generated {gen4}")


if __name__ == "__main__":
    main()
