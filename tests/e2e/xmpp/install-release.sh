#!/usr/bin/env bash
# install-release.sh T NODE VERSION - what "install the new version" is in
# the ejabberd recipe test. Debian has one ejabberd version, so the test
# node's release is the `version:` option of its ejabberd.yml (what
# `ejabberdctl status` reports once the node runs again). This is the one
# simulated step: the node really leaves the cluster, stops, starts from
# this config and joins again. Refuses to run while the node is up, as a
# package upgrade of a running node would be a different test.
set -eu
T=$1 NODE=$2 VERSION=$3
cfg=$T/ej/$NODE/ejabberd.yml
pid=$(cat "$T/ej/$NODE/ejabberd.pid" 2>/dev/null) || pid=
if [ -n "$pid" ] && read -r st 2>/dev/null <"/proc/$pid/stat"; then
	st=${st##*) }
	if [ "${st%% *}" != Z ]; then
		echo "install-release: $NODE still runs (pid $pid)" >&2
		exit 1
	fi
fi
grep -q '^version: ' "$cfg"
sed -i "s/^version: .*/version: \"$VERSION\"/" "$cfg"
echo "$NODE: release $VERSION installed"
