#!/bin/sh
# web-vendor.sh [--check] - the console's pinned browser code (web/vendor.lock).
#
# Without --check (run by `make deps`; needs the network once): for each
# line of web/vendor.lock, download the tarball with curl from npm's
# configured registry (`npm config get registry`, or $WEB_VENDOR_REGISTRY)
# into web/vendor/, unless a file with the right hash is already there,
# and check its sha512 against the lock.
# With --check DESTDIR (run by `make web`, offline): check every tarball's
# sha512 again and extract only the listed files, flat, into DESTDIR,
# with a SOURCES file naming package, version, integrity and licence.
# A hash that does not match is fatal: nothing is copied.
set -eu
cd "$(dirname "$0")/.."
LOCK=web/vendor.lock
VENDOR=web/vendor

# integrity "sha512-BASE64" of a file
integrity() {
	printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | openssl base64 -A)"
}

tarball_of() {
	printf '%s/%s' "$VENDOR" "$(basename "$1")"
}

check=0
dest=
if [ "${1:-}" = "--check" ]; then
	check=1
	dest=${2:?usage: web-vendor.sh --check DESTDIR}
fi

if [ "$check" = 0 ]; then
	mkdir -p "$VENDOR"
	registry=${WEB_VENDOR_REGISTRY:-}
	grep -v '^#' "$LOCK" | grep -v '^[[:space:]]*$' |
	while read -r name version path sum licence files; do
		tgz=$(tarball_of "$path")
		if [ -f "$tgz" ] && [ "$(integrity "$tgz")" = "$sum" ]; then
			echo "web-vendor: $name $version present"
			continue
		fi
		if [ -z "$registry" ]; then
			registry=$(npm config get registry 2>/dev/null || true)
		fi
		if [ -z "$registry" ]; then
			echo "web-vendor: no npm registry known: install npm" \
			    "(Debian package npm) or set WEB_VENDOR_REGISTRY" >&2
			exit 1
		fi
		url="${registry%/}/$path"
		echo "web-vendor: fetching $name $version"
		curl --fail --silent --show-error --location --proto '=https' \
		    --max-time 120 -o "$tgz.part" "$url"
		got=$(integrity "$tgz.part")
		if [ "$got" != "$sum" ]; then
			rm -f "$tgz.part"
			echo "web-vendor: $name $version: integrity $got," \
			    "expected $sum (web/vendor.lock): refusing" >&2
			exit 1
		fi
		mv "$tgz.part" "$tgz"
	done
	exit 0
fi

mkdir -p "$dest"
: >"$dest/SOURCES.part"
grep -v '^#' "$LOCK" | grep -v '^[[:space:]]*$' |
while read -r name version path sum licence files; do
	tgz=$(tarball_of "$path")
	if [ ! -f "$tgz" ]; then
		echo "web-vendor: $tgz missing: run make deps (or" \
		    "scripts/web-vendor.sh) once with the network" >&2
		exit 1
	fi
	got=$(integrity "$tgz")
	if [ "$got" != "$sum" ]; then
		echo "web-vendor: $tgz: integrity $got, expected $sum" \
		    "(web/vendor.lock): refusing" >&2
		exit 1
	fi
	tmp=$(mktemp -d)
	# shellcheck disable=SC2086
	tar -xzf "$tgz" -C "$tmp" $(echo "$files" | tr ',' ' ')
	for f in $(echo "$files" | tr ',' ' '); do
		base=$(basename "$f")
		[ "$base" = LICENSE ] && base="LICENSE.$(basename "$name")"
		cp "$tmp/$f" "$dest/$base"
	done
	rm -rf "$tmp"
	printf '%s %s %s %s\n' "$name" "$version" "$sum" "$licence" \
	    >>"$dest/SOURCES.part"
done
mv "$dest/SOURCES.part" "$dest/SOURCES"
