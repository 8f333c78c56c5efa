#!/bin/sh
# web-cert.sh HOST DIR - the web console's self-signed certificate: a P-256
# key (DIR/key.pem, 0600) and a certificate for HOST (DIR/cert.pem; the
# subjectAltName names HOST, as an IP address when it is one), valid 825
# days. Made by the install script and `make demo`; replace both files
# with the hospital's own (docs/WEB.md, "Certificate") and restart
# bastion-webd. An existing key and certificate are kept (--force remakes).
set -eu
force=0
if [ "${1:-}" = "--force" ]; then
	force=1
	shift
fi
host=${1:?usage: web-cert.sh [--force] HOST DIR}
dir=${2:?usage: web-cert.sh [--force] HOST DIR}
if [ "$force" = 0 ] && [ -s "$dir/key.pem" ] && [ -s "$dir/cert.pem" ]; then
	echo "web-cert: $dir/cert.pem exists (kept)"
	exit 0
fi
case "$host" in
*[!0-9.]*) case "$host" in *:*) san="IP:$host" ;; *) san="DNS:$host" ;; esac ;;
*) san="IP:$host" ;;
esac
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$dir/key.pem.part" -out "$dir/cert.pem.part" -days 825 \
	-subj "/CN=$host" -addext "subjectAltName=$san" \
	-addext "extendedKeyUsage=serverAuth" 2>/dev/null
chmod 0600 "$dir/key.pem.part"
chmod 0644 "$dir/cert.pem.part"
mv "$dir/key.pem.part" "$dir/key.pem"
mv "$dir/cert.pem.part" "$dir/cert.pem"
echo "web-cert: $dir/cert.pem for $host (self-signed, 825 days)"
