#!/bin/sh
# Regenerate data/tor-geoip.vgeo from Debian's tor-geoipdb package.
#
# Downloads the .deb with apt (no install, so the tor daemon is not pulled in),
# unpacks it in a temporary directory and converts /usr/share/tor/geoip{,6}.
# Needs: apt-get (after `apt-get update`), dpkg-deb, python3 (stdlib only).
# After running: update the version/date lines in data/NOTICE and commit both.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
apt-get download tor-geoipdb
deb=$(ls tor-geoipdb_*.deb)
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -x "$deb" root
python3 "$here/scripts/build_geoip.py" \
  --geoip root/usr/share/tor/geoip \
  --geoip6 root/usr/share/tor/geoip6 \
  --package-version "$version" \
  --out "$here/data/tor-geoip.vgeo"
echo "tor-geoipdb $version converted; now update data/NOTICE"
