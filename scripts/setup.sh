#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages fkworker needs to build and test, only when one is missing.
# Uses apt-get as root, sudo otherwise; says what to install by hand when it can do neither.
set -eu

# prometheus: its promtool checks the /metrics format (t-metrics-prometheus.sh); curl scrapes it.
# tmux: a terminal for fkworkerctl top's test (t-ctl-top.sh).
PKGS="libconfig-dev libmsgpack-dev check libjansson-dev libssl-dev libsystemd-dev libmicrohttpd-dev
libncurses-dev pkg-config prometheus curl
clang libclang-rt-14-dev valgrind jq socat openssl procps tmux
debhelper dpkg-dev lintian mandoc man-db systemd"
[ "${FKW_SETUP_EXTRA:-}" ] && PKGS="$PKGS $FKW_SETUP_EXTRA"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "setup: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
else
	echo "setup: missing Debian packages:$missing" >&2
	echo "setup: run as root: apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; an install from a stale list 404s, so refresh once on failure.
if ! $SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
	$SUDO apt-get update -qq
	$SUDO apt-get install -y --no-install-recommends $missing
fi
