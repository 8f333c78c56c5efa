#!/bin/sh
# demo.sh - start, stop or show the demo bastion (make demo / make demo-stop).
#
#   scripts/demo.sh start | stop | restart | status
#
# The work is done by scripts/demo.py with Debian's Python (/usr/bin/python3:
# the first python3 on PATH may be another install without PyYAML/pexpect).
# start also runs an ssh-agent per engineer (var/demo/agent-NAME.sock) for
# the bastion's touch check; stop stops them with the rest. Then the web
# console (scripts/demo-web.sh). See docs/DEMO.md.
set -eu

cd "$(dirname "$0")/.."

PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
	echo "demo: $PY not found: run 'make deps' (Debian package python3)" >&2
	exit 1
fi
case "${1:-}" in
start | restart)
	for t in ssh ssh-agent ssh-add ssh-keygen; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "demo: $t not found: run 'make deps'" \
				"(Debian package openssh-client)" >&2
			exit 1
		fi
	done
	;;
esac

# the web console (scripts/demo-web.sh) after the bastion, and before it
# on the way down
case "${1:-}" in
start | restart)
	"$PY" scripts/demo.py "$1"
	exec scripts/demo-web.sh "$1"
	;;
stop)
	scripts/demo-web.sh stop
	exec "$PY" scripts/demo.py stop
	;;
status)
	rc=0
	"$PY" scripts/demo.py status || rc=$?
	scripts/demo-web.sh status || rc=$?
	exit "$rc"
	;;
*)
	echo "usage: $0 start|stop|restart|status" >&2
	exit 2
	;;
esac
