#!/bin/sh
# s3-server.sh start DIR PORT | stop DIR - a real S3 server for the tests
# and `make demo-ha`: s3rver (npm @20minutes/s3rver, the fork that checks
# Signature Version 4; pinned with its dependencies in
# tests/s3/package-lock.json, fetched and checked by `make deps`,
# scripts/s3-vendor.py; started through tests/s3/s3rver.js) on Debian's
# nodejs, listening on 127.0.0.1:PORT only, its objects under DIR/data.
#
# start: checks the pinned packages again (offline), starts the server in
#   the background (pid in DIR/s3rver.pid, log in DIR/s3rver.log), creates
#   the bucket "bastion-recordings", waits until it answers, writes
#   DIR/credentials (mode 0600: "access_key_id = S3RVER",
#   "secret_access_key = S3RVER", the only key pair s3rver knows) and
#   DIR/endpoint, and prints the endpoint: http://127.0.0.1:PORT
#   (plain http, allowed by bastion-ship only to a loopback address).
#   s3rver checks every request's AWS Signature Version 4: a wrong secret
#   is answered 403 SignatureDoesNotMatch.
# stop: ends the server started in DIR (by its pid file; the objects stay,
#   so a second start serves them again).
# docs/RECORDING-STORE.md, "Tests".
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUCKET=${S3_BUCKET:-bastion-recordings}

usage() {
	echo "usage: s3-server.sh start DIR PORT | stop DIR" >&2
	exit 2
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage

case "$cmd" in
start)
	port=${3:-}
	case "$port" in
	'' | *[!0-9]*) usage ;;
	esac
	command -v node >/dev/null 2>&1 || {
		echo "s3-server: node missing: make deps (Debian package nodejs)" >&2
		exit 1
	}
	/usr/bin/python3 "$TOP/scripts/s3-vendor.py" --check >/dev/null
	mkdir -p "$dir/data"
	dir=$(cd "$dir" && pwd)
	if [ -f "$dir/s3rver.pid" ] && kill -0 "$(cat "$dir/s3rver.pid")" 2>/dev/null; then
		echo "s3-server: already running in $dir (pid $(cat "$dir/s3rver.pid"))" >&2
		exit 1
	fi
	# s3rver makes the bucket at start from a configuration file (here an
	# empty CORS rule set it needs none of, but the option wants one)
	cat >"$dir/cors.xml" <<'EOF'
<CORSConfiguration><CORSRule><AllowedOrigin>http://127.0.0.1</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>
EOF
	(umask 077 && printf 'access_key_id = S3RVER\nsecret_access_key = S3RVER\n' \
	    >"$dir/credentials")
	setsid node "$TOP/tests/s3/s3rver.js" \
	    -d "$dir/data" -a 127.0.0.1 -p "$port" --no-vhost-buckets \
	    --configure-bucket "$BUCKET" "$dir/cors.xml" \
	    >"$dir/s3rver.log" 2>&1 </dev/null &
	echo $! >"$dir/s3rver.pid"
	url="http://127.0.0.1:$port"
	i=0
	# an unsigned GET is answered (403 AccessDenied) once it listens
	until curl -s -o /dev/null --max-time 1 "$url/"; do
		i=$((i + 1))
		if [ "$i" -ge 100 ] || ! kill -0 "$(cat "$dir/s3rver.pid")" 2>/dev/null; then
			echo "s3-server: s3rver did not start (see $dir/s3rver.log):" >&2
			tail -5 "$dir/s3rver.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "$url" >"$dir/endpoint"
	echo "$url"
	;;
stop)
	[ -f "$dir/s3rver.pid" ] || exit 0
	pid=$(cat "$dir/s3rver.pid")
	kill "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/s3rver.pid"
	;;
*)
	usage
	;;
esac
