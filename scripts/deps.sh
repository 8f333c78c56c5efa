#!/bin/sh
# deps.sh - install the Debian 12 packages the bastion and its tests need.
# Idempotent: asks dpkg what is present and runs apt-get only for the rest.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-dev
libssh-dev libpam0g-dev libfido2-dev libcbor-dev libssl-dev libuv1-dev libsqlite3-dev
libyaml-dev libzstd-dev libsystemd-dev libseccomp-dev libarchive-dev libcmocka-dev libpam-wrapper
libcurl4-openssl-dev libjansson-dev
libpam-modules openssh-client openssh-server
python3 python3-pytest python3-pexpect python3-yaml python3-cryptography asciinema ssh-audit tmux
procps iproute2 curl systemd debootstrap systemd-container
putty-tools python3-paramiko python3-asyncssh
libpq-dev postgresql-15 postgresql-client-15 age haproxy
libmicrohttpd-dev libjansson-dev chromium chromium-driver python3-selenium fonts-noto-cjk
clamav-daemon clamav clamav-testfiles libmagic-dev
nodejs"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done

# sshd (the test devices) refuses to start as root without its privilege
# separation directory, which only the systemd unit would create.
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
	mkdir -p /run/sshd && chmod 0755 /run/sshd
fi

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
