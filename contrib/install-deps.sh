#!/bin/sh
# install-deps.sh - make sure the Debian packages cutover needs to build,
# test, fuzz, benchmark and demo are installed (the fuzzers need clang and
# libclang-rt-14-dev, which holds libFuzzer and the sanitizer runtimes).
# As root it installs what is missing with apt-get; otherwise it prints
# the exact command to run.
#
# The recipe tests use Debian's ejabberd and mosquitto with their own
# configs, ports and data dirs; a system service the packages may start
# is neither needed nor touched.
set -eu

PKGS="gcc make pkg-config libuv1-dev libjansson-dev libcurl4-openssl-dev \
libyaml-dev libcmocka-dev haproxy socat curl procps jq clang \
libclang-rt-14-dev valgrind openssl \
ejabberd erlang-base python3 python3-slixmpp mosquitto mosquitto-clients \
python3-paho-mqtt"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "cutover: missing Debian packages:$missing" >&2
	echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "cutover: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
