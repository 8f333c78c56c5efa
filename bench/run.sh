#!/bin/sh
# run.sh - `make bench`: the bastion against OpenSSH, script(1) and tlog.
#
# Installs what only the benchmarks need (Debian's tlog, for tlog-rec),
# once, with apt-get and only when it is missing, then runs bench/bench.py
# with Debian's Python (/usr/bin/python3: the first python3 on PATH may be
# another install without python3-yaml). Knobs: see docs/BENCHMARKS.md
# (BENCH_FULL=1 for the issue's full sizes).
set -eu
cd "$(dirname "$0")/.."

BENCH_PKGS="tlog"
# each package dpkg does not list as installed ("ii")
missing=$(for p in $BENCH_PKGS; do
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null |
	    grep -q '^ii' || printf ' %s' "$p"
done)
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "bench: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if ! { $SUDO apt-get install -y -q --no-install-recommends $missing ||
	    { $SUDO apt-get update -q &&
	      $SUDO apt-get install -y -q --no-install-recommends $missing; }; }
	then
		echo "bench: could not install$missing; the pty comparison" \
		    "will use script(1) only" >&2
	fi
fi

exec /usr/bin/python3 bench/bench.py "$@"
