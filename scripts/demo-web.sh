#!/bin/sh
# demo-web.sh start|stop|restart|status - the web console of the demo
# (docs/DEMO.md, "The web console"; docs/WEB.md). Run by scripts/demo.sh
# after the bastion itself (scripts/demo.py) is up.
#
# start: a self-signed certificate for localhost (scripts/web-cert.sh,
# kept in var/demo/web/), then bastion-webd on 127.0.0.1:8443 for the
# demo policy's web.origin, talking to the demo bastiond's web.sock; as
# the user who ran the demo (the demo policy's web.daemon_user), detached
# with its own session; pid var/demo/webd.pid, log var/demo/webd.log.
# Prints the URL and how bob and carol sign in.
set -eu
cd "$(dirname "$0")/.."
DEMO=var/demo
B=${B:-build}
PIDFILE=$DEMO/webd.pid
LOG=$DEMO/webd.log
PORT=8443

webd_pid() {
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE")
	# ours only: a live process running bastion-webd
	grep -q bastion-webd "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

# a value of the demo policy (python's yaml: the policy is YAML)
policy_value() {
	/usr/bin/python3 -c 'import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
v = p
for k in sys.argv[2].split("."):
    v = (v or {}).get(k)
print(v if v is not None else "")' "$DEMO/policy.yaml" "$1"
}

# The console's PAM service (bastion-web) in the demo's PAM directory:
# the same test stack and secrets as the ssh side (pam_matrix), for the
# people who may use the console.
web_pam() {
	pamdir=$(policy_value paths.pam_service_dir)
	[ -n "$pamdir" ] && [ -f "$DEMO/pam/passdb" ] || return 0
	(umask 077 && sed -n 's/^\([^:]*:[^:]*\):bastion$/\1:bastion-web/p' \
	    "$DEMO/pam/passdb" >"$DEMO/pam/web-passdb")
	sed "s#passdb=[^ ]*#passdb=$(pwd)/$DEMO/pam/web-passdb#" \
	    "$pamdir/bastion" >"$pamdir/bastion-web"
}

start() {
	if pid=$(webd_pid); then
		echo "demo-web: already running (pid $pid)"
		say_how
		return 0
	fi
	[ -x "$B/bastion-webd" ] && [ -f "$B/web-static/vendor/xterm.js" ] || {
		echo "demo-web: $B/bastion-webd or $B/web-static missing:" \
		    "make tests web" >&2
		return 1
	}
	origin=$(policy_value web.origin)
	run_dir=$(policy_value paths.run_dir)
	if [ -z "$origin" ] || [ -z "$run_dir" ]; then
		echo "demo-web: $DEMO/policy.yaml has no web: section" \
		    "(start the demo first: make demo)" >&2
		return 1
	fi
	if ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; then
		echo "demo-web: port $PORT is taken (ss -ltnp)" >&2
		return 1
	fi
	./scripts/web-cert.sh localhost "$DEMO/web" >/dev/null
	web_pam
	setsid "$B/bastion-webd" --listen "127.0.0.1:$PORT" --origin "$origin" \
	    --key "$DEMO/web/key.pem" --cert "$DEMO/web/cert.pem" \
	    --static "$B/web-static" --control "$run_dir/web.sock" \
	    </dev/null >>"$LOG" 2>&1 &
	echo $! >"$PIDFILE"
	i=0
	while ! ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; do
		i=$((i + 1))
		if [ "$i" -gt 50 ] || ! webd_pid >/dev/null; then
			echo "demo-web: bastion-webd did not start; $LOG:" >&2
			tail -n 20 "$LOG" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "demo: web console $origin (pid $(cat "$PIDFILE")), log $LOG"
	say_how
}

say_how() {
	origin=$(policy_value web.origin)
	cat <<EOT

The web console: $origin/
  (a self-signed certificate for localhost: $DEMO/web/cert.pem; let the
  browser accept it once)
  bob (admin) and carol (auditor) sign in with a security key and their
  secret (the "Password:" lines above, or: grep NAME $DEMO/secrets).
  First, once per person, enrol a key for the browser:
    ssh -F $DEMO/ssh_config bob@bastion web-enroll     (prints a one-time code)
    then open $origin/#/enroll, type bob, the code and the secret.
  No hardware key? Chromium or Chrome: DevTools > More tools > WebAuthn >
  "Enable virtual authenticator environment", add a ctap2/usb
  authenticator, then enrol and sign in as above.
  The same for carol (auditor): recordings, replay, verify, bundle, report.
EOT
}

stop() {
	if pid=$(webd_pid); then
		kill "$pid" 2>/dev/null || true
		echo "demo: stopped the web console (pid $pid)"
	fi
	rm -f "$PIDFILE"
}

case "${1:-}" in
start) start ;;
restart) stop; start ;;
stop) stop ;;
status)
	if pid=$(webd_pid); then
		echo "web console: running (pid $pid)"
	else
		echo "web console: not running"
		exit 3
	fi
	;;
*)
	echo "usage: $0 start|stop|restart|status" >&2
	exit 2
	;;
esac
