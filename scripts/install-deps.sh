#!/bin/sh
# Installs the Debian packages churnlab builds, tests and plots with.
# Run by `make` when pkg-config cannot find a build dependency, and by .ci/run.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds the Python anchors for `make bench`)
set -eu

pkgs="build-essential pkg-config liblua5.4-dev lua5.4 libopenblas-openmp-dev
      libcsv-dev libsqlite3-dev libcmocka-dev libreadline-dev gnuplot-nox clang libclang-rt-dev
      libopenmpi-dev openmpi-bin libmicrohttpd-dev libjansson-dev libjs-chart.js curl
      chromium-headless-shell"
if [ "${1:-}" = "--bench" ]; then
    pkgs="$pkgs python3-numpy python3-sklearn python3-xgboost python3-pandas python3-torch wrk"
fi

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: need root (or sudo) to install:$missing" >&2
        exit 1
    }
else
    SUDO=
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
