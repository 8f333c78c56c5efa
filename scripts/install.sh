#!/bin/sh
# install.sh - install the bastion in the usual Debian places (docs/INSTALL.md).
#
#   scripts/install.sh              install from the build directory
#   scripts/install.sh --uninstall  remove what install put there
#   scripts/install.sh --list       print the files it installs, one a line
#
# Variables (environment), with their defaults:
#   B           build directory holding the programs         build
#   DESTDIR     staging root, prefixed to every path         (none)
#   PREFIX      programs, man pages, documentation           /usr
#   SYSCONFDIR  /etc/bastion and /etc/pam.d                  /etc
#   PAMDIR      PAM modules: pkg-config's libdir of pam + /security,
#               else /lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/security,
#               else the directory holding pam_unix.so (else an error)
#   UNITDIR     systemd units (pkg-config systemd)           /lib/systemd/system
#   TMPFILESDIR tmpfiles.d (pkg-config systemd)              /usr/lib/tmpfiles.d
#   SYSUSERSDIR sysusers.d (pkg-config systemd)              /usr/lib/sysusers.d
#
# Configuration is never overwritten: /etc/bastion/policy.yaml (a starter
# policy that lets nobody in), /etc/pam.d/bastion and /etc/pam.d/bastion-web
# (the web console's sign-in) are written only when absent. Uninstall leaves them, and the state and recordings in
# /var/lib/bastion, which are the hospital's records. Installed as root on
# a machine running systemd (and without DESTDIR), it also creates the
# users (sysusers.d) and directories (tmpfiles.d), moves a recording key
# from the single-process layout to the recorder's directory, and reloads
# systemd. With DESTDIR set, nothing outside DESTDIR is touched (no
# systemctl, no sysusers, no tmpfiles), so the tree can be built and
# checked as any user.
set -eu

ME=$(basename "$0")
TOP=$(cd "$(dirname "$0")/.." && pwd)

B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr}
SYSCONFDIR=${SYSCONFDIR:-/etc}

# PAM modules go where this machine's libpam looks: pkg-config's word, else
# Debian's multiarch directory, else wherever pam_unix.so is. Never a guess:
# a module in a directory libpam does not search fails every login.
if [ -z "${PAMDIR:-}" ]; then
	libdir=$(pkg-config --variable=libdir pam 2>/dev/null || true)
	if [ -z "$libdir" ] && command -v dpkg-architecture >/dev/null 2>&1; then
		libdir=/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
	fi
	if [ -n "$libdir" ]; then
		PAMDIR=$libdir/security
	else
		for d in /lib/*-linux-gnu*/security /usr/lib/*-linux-gnu*/security \
		    /lib64/security /usr/lib64/security /lib/security \
		    /usr/lib/security; do
			if [ -f "$d/pam_unix.so" ]; then
				PAMDIR=$d
				break
			fi
		done
	fi
fi
if [ -z "${UNITDIR:-}" ]; then
	UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd \
	    2>/dev/null || true)
	UNITDIR=${UNITDIR:-/lib/systemd/system}
fi
if [ -z "${TMPFILESDIR:-}" ]; then
	TMPFILESDIR=$(pkg-config --variable=tmpfilesdir systemd 2>/dev/null ||
	    true)
	TMPFILESDIR=${TMPFILESDIR:-/usr/lib/tmpfiles.d}
fi
if [ -z "${SYSUSERSDIR:-}" ]; then
	SYSUSERSDIR=$(pkg-config --variable=sysusersdir systemd 2>/dev/null ||
	    true)
	SYSUSERSDIR=${SYSUSERSDIR:-/usr/lib/sysusers.d}
fi
SBINDIR=$PREFIX/sbin
BINDIR=$PREFIX/bin
MANDIR=$PREFIX/share/man
DOCDIR=$PREFIX/share/doc/bastion
CONFDIR=$SYSCONFDIR/bastion
WEBDIR=$PREFIX/share/bastion/web

die() {
	echo "$ME: $*" >&2
	exit 1
}

[ -n "${PAMDIR:-}" ] || die "cannot tell where this machine's PAM modules" \
    "live (no pkg-config, no dpkg-architecture, no pam_unix.so found):" \
    "set PAMDIR=DIR"

# Every installed file: "MODE SOURCE DEST" (DEST without DESTDIR). The
# configuration files (written only when absent) are handled apart.
manifest() {
	for p in bastiond bastion-recorder bastionctl bastion-notify bastion-rekey; do
		echo "0755 $B/$p $SBINDIR/$p"
	done
	for p in bastion-verify bastion-replay bastion-escrow; do
		echo "0755 $B/$p $BINDIR/$p"
	done
	echo "0644 $B/pam_bastion.so $PAMDIR/pam_bastion.so"
	for u in bastiond.service bastion-recorder.service; do
		echo "0644 $TOP/systemd/$u $UNITDIR/$u"
	done
	echo "0644 $TOP/systemd/bastion.tmpfiles $TMPFILESDIR/bastion.conf"
	echo "0644 $TOP/systemd/bastion.sysusers $SYSUSERSDIR/bastion.conf"
	for m in "$TOP"/docs/man/*.[158]; do
		[ -e "$m" ] || continue
		n=$(basename "$m")
		echo "0644 $m $MANDIR/man${n##*.}/$n.gz"
	done
	echo "0644 $TOP/README.md $DOCDIR/README.md"
	for d in "$TOP"/docs/*.md; do
		echo "0644 $d $DOCDIR/$(basename "$d")"
	done
	echo "0644 $TOP/systemd/README.md $DOCDIR/systemd.md"
	echo "0644 $TOP/pam/README.md $DOCDIR/pam.md"
	echo "0644 $TOP/policies/example.yaml $DOCDIR/examples/policy.yaml"
	echo "0644 $TOP/pam/bastion $DOCDIR/examples/pam.d/bastion"
	echo "0644 $TOP/pam/bastion.sss $DOCDIR/examples/pam.d/bastion.sss"
	echo "0644 $TOP/pam/bastion-web $DOCDIR/examples/pam.d/bastion-web"
	web_manifest
	ship_manifest
}

# bastion-ship (docs/RECORDING-STORE.md): the program, its unit and user.
ship_manifest() {
	echo "0755 $B/bastion-ship $SBINDIR/bastion-ship"
	echo "0644 $TOP/systemd/bastion-ship.service $UNITDIR/bastion-ship.service"
	echo "0644 $TOP/systemd/bastion-ship.sysusers $SYSUSERSDIR/bastion-ship.conf"
}

# The web console (docs/WEB.md): its daemon, units, user, the script
# that makes its certificate, and its static files (make web).
web_manifest() {
	echo "0755 $B/bastion-webd $SBINDIR/bastion-webd"
	echo "0755 $TOP/scripts/web-cert.sh $SBINDIR/bastion-web-cert"
	for u in bastion-webd.service bastion-webd.socket; do
		echo "0644 $TOP/systemd/$u $UNITDIR/$u"
	done
	echo "0644 $TOP/systemd/bastion-webd.sysusers $SYSUSERSDIR/bastion-webd.conf"
	[ -d "$B/web-static" ] || return 0
	(cd "$B/web-static" && find . -type f ! -name .stamp | sort) |
	while read -r f; do
		echo "0644 $B/web-static/${f#./} $WEBDIR/${f#./}"
	done
}

# The console's address and self-signed certificate for this host, when
# there are none yet (the hospital replaces them: docs/WEB.md).
web_setup() {
	host=$(hostname -f 2>/dev/null || hostname)
	printf '%s\n' "# The web console's address as browsers use it (WebAuthn" \
	    "# binds every assertion to it): https://HOST:PORT, no path." \
	    "BASTION_WEB_ORIGIN=https://$host:8443" |
	    install_conf 0644 "$CONFDIR/web.env"
	if ! command -v openssl >/dev/null; then
		echo "$ME: no openssl here: the web console has no certificate" \
		    "yet (apt-get install openssl, then bastion-web-cert" \
		    "$host $CONFDIR/web)" >&2
		return 0
	fi
	"$SBINDIR/bastion-web-cert" "$host" "$CONFDIR/web" ||
	    die "could not make the web console's certificate"
}

# The starter policy: valid, Debian paths, nobody can log in.
starter_policy() {
	cat <<'EOF'
# /etc/bastion/policy.yaml - who may reach which hospital device through
# this bastion (bastion-policy(5); every key: /usr/share/doc/bastion/POLICY.md).
#
# Installed nearly empty: no vendor, engineer or device, so nobody can log
# in until you add them. A commented policy of a small hospital is
# /usr/share/doc/bastion/examples/policy.yaml. After every change:
#
#   systemctl reload bastiond     (checks the file first; sessions go on)
version: 1

# Where vendors connect: this machine's address on the vendor-facing
# network, as literal IP:PORT ("0.0.0.0" is not accepted). Loopback until
# you set it.
listen: ["127.0.0.1:2222"]

# Keep these as the units expect them (systemd/README.md). The recordings
# are written by bastion-recorder.service, whose socket recorder_socket
# names; `bastiond -f /etc/bastion/policy.yaml --init` creates the host
# key, and the recorder's signing key is created as its own user
# (docs/OPERATIONS.md).
paths:
  host_keys: [/etc/bastion/hostkeys/ssh_host_ed25519_key]
  state_dir: /var/lib/bastion/state
  recordings_dir: /var/lib/bastion/recordings
  run_dir: /run/bastion
  recorder_socket: /run/bastion-recorder/recorder.sock

# Recommended once admins are listed: an admin approves each access.
# approval:
#   required: true

vendors: []
devices: []
EOF
}

# install_file MODE SRC DEST: DEST under DESTDIR; man pages get gzipped.
install_file() {
	mode=$1 src=$2 dst=$DESTDIR$3
	[ -f "$src" ] || die "$src is missing (build first: make B=${B#"$TOP"/} tests)"
	mkdir -p "$(dirname "$dst")"
	case $dst in
	*.gz)
		gzip -9n -c "$src" >"$dst.tmp"
		chmod "$mode" "$dst.tmp"
		mv -f "$dst.tmp" "$dst"
		;;
	*)
		install -m "$mode" "$src" "$dst"
		;;
	esac
}

# install_conf MODE DEST < content: only when DEST is absent.
install_conf() {
	mode=$1 dst=$DESTDIR$2
	if [ -e "$dst" ]; then
		echo "kept $2 (exists)"
		cat >/dev/null
		return
	fi
	mkdir -p "$(dirname "$dst")"
	cat >"$dst.tmp"
	chmod "$mode" "$dst.tmp"
	mv -f "$dst.tmp" "$dst"
	echo "installed $2"
}

live() {
	[ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ] && [ -d /run/systemd/system ]
}

do_install() {
	manifest | while read -r mode src dst; do
		install_file "$mode" "$src" "$dst"
	done
	# Units for another prefix must start the programs from there.
	if [ "$SBINDIR" != /usr/sbin ]; then
		for u in bastiond.service bastion-recorder.service \
		    bastion-webd.service bastion-ship.service; do
			sed -i "s#/usr/sbin/bastion#$SBINDIR/bastion#g" \
			    "$DESTDIR$UNITDIR/$u"
		done
	fi
	mkdir -p "$DESTDIR$CONFDIR"
	chmod 0750 "$DESTDIR$CONFDIR"
	starter_policy | install_conf 0640 "$CONFDIR/policy.yaml"
	install_conf 0644 "$SYSCONFDIR/pam.d/bastion" <"$TOP/pam/bastion"
	install_conf 0644 "$SYSCONFDIR/pam.d/bastion-web" <"$TOP/pam/bastion-web"
	if live; then
		systemd-sysusers "$SYSUSERSDIR/bastion.conf" ||
		    die "systemd-sysusers could not create the bastion's users"
		systemd-sysusers "$SYSUSERSDIR/bastion-webd.conf" ||
		    die "systemd-sysusers could not create bastion-web"
		systemd-sysusers "$SYSUSERSDIR/bastion-ship.conf" ||
		    die "systemd-sysusers could not create bastion-ship"
		web_setup
		migrate_layout
		systemd-tmpfiles --create "$TMPFILESDIR/bastion.conf" ||
		    die "systemd-tmpfiles could not create the bastion's" \
		    "directories"
		systemctl daemon-reload || true
	fi
	echo "installed into ${DESTDIR:-/}. Next (docs/INSTALL.md):"
	echo "  edit $CONFDIR/policy.yaml, then"
	echo "  bastiond -f $CONFDIR/policy.yaml --check"
	echo "  bastiond -f $CONFDIR/policy.yaml --init"
	echo "  runuser -u bastion-rec -- $SBINDIR/bastion-recorder --init \\"
	echo "      -k /var/lib/bastion/recorder/recorder.key"
	echo "  systemctl enable --now bastion-recorder bastiond"
	echo "  systemctl enable --now bastion-webd.socket   (the web console," \
	    "docs/WEB.md)"
}

# From the single-process layout (bastiond starting its recorder, key in
# the state directory, recordings owned by root) to the recorder's own
# user. Idempotent; runs only on a live install, before tmpfiles.
migrate_layout() {
	lib=/var/lib/bastion
	[ -d "$lib" ] || return 0
	mkdir -p "$lib/recorder"
	if [ -f "$lib/state/recorder.key" ] &&
	    [ ! -e "$lib/recorder/recorder.key" ]; then
		mv "$lib/state/recorder.key" "$lib/recorder/recorder.key"
		if [ -f "$lib/state/recorder.key.pub" ] &&
		    [ ! -L "$lib/state/recorder.key.pub" ]; then
			mv "$lib/state/recorder.key.pub" \
			    "$lib/recorder/recorder.key.pub"
		fi
		echo "moved the recording signing key to $lib/recorder/"
	fi
	for d in recorder recordings; do
		[ -d "$lib/$d" ] || continue
		if [ "$(stat -c %U "$lib/$d")" != bastion-rec ]; then
			chown -R bastion-rec:bastion-audit "$lib/$d"
			find "$lib/$d" -type d -exec chmod g+s,o-rwx {} +
			echo "gave $lib/$d to bastion-rec (group bastion-audit)"
		fi
	done
	[ ! -f "$lib/recorder/recorder.key" ] ||
		chmod 0600 "$lib/recorder/recorder.key"
}

do_uninstall() {
	if live; then
		systemctl disable --now bastiond.service \
		    bastion-recorder.service bastion-webd.socket \
		    bastion-webd.service bastion-ship.service 2>/dev/null || true
	fi
	manifest | while read -r mode src dst; do
		rm -f "$DESTDIR$dst"
	done
	rmdir "$DESTDIR$DOCDIR/examples/pam.d" "$DESTDIR$DOCDIR/examples" \
	    "$DESTDIR$DOCDIR" 2>/dev/null || true
	if live; then
		systemctl daemon-reload || true
	fi
	echo "removed the bastion's programs, module, unit and documentation."
	echo "kept: $CONFDIR, $SYSCONFDIR/pam.d/bastion and bastion-web," \
	    "/var/lib/bastion" \
	    "(policy, keys, state, recordings) and the users bastion," \
	    "bastion-rec (their files)"
}

case ${1:-} in
"")
	do_install
	;;
--uninstall)
	do_uninstall
	;;
--list)
	manifest | while read -r mode src dst; do echo "$dst"; done
	echo "$CONFDIR/policy.yaml"
	echo "$SYSCONFDIR/pam.d/bastion"
	echo "$SYSCONFDIR/pam.d/bastion-web"
	;;
*)
	echo "usage: $ME [--uninstall | --list]" >&2
	exit 2
	;;
esac
