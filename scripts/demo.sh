#!/bin/sh
# demo.sh - start, stop or show the demo bastion (make demo / make demo-stop).
#
#   scripts/demo.sh start | stop | restart | status
#
# The work is done by scripts/demo.py with Debian's Python (/usr/bin/python3:
# the first python3 on PATH may be another install without PyYAML/pexpect).
# See docs/DEMO.md.
set -eu

cd "$(dirname "$0")/.."

PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
	echo "demo: $PY not found: run 'make deps' (Debian package python3)" >&2
	exit 1
fi

case "${1:-}" in
start | stop | restart | status) exec "$PY" scripts/demo.py "$1" ;;
*)
	echo "usage: $0 start|stop|restart|status" >&2
	exit 2
	;;
esac
