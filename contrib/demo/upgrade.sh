#!/bin/sh
# upgrade.sh SERVER PORT VERSION - the demo's upgrade hook: stop the demo
# backend that serves SERVER, start VERSION on the same port. A real hook
# would install a package and restart a service; cutover has already taken
# the server out of every load balancer and waited for its last session.
set -eu
SERVER=$1 PORT=$2 VERSION=$3
D=$DEMO_DIR
old=$(cat "$D/$SERVER.pid")
echo "stopping $SERVER (pid $old)"
kill -TERM "$old"
# Gone, or a zombie that whoever reaps orphans here has not collected yet.
while [ -r "/proc/$old/stat" ] && [ "$(sed 's/.*) //; s/ .*//' "/proc/$old/stat" 2>/dev/null)" != Z ]; do
	sleep 0.02
done
"$DEMO_BACKEND" --port "$PORT" --version "$VERSION" --pidfile "$D/$SERVER.pid" \
	--quiet </dev/null >"$D/$SERVER.log" 2>&1 &
echo "$!" >>"$D/pids"
while ! grep -q listening "$D/$SERVER.log"; do
	kill -0 "$!" 2>/dev/null || { echo "$SERVER $VERSION did not start" >&2; exit 1; }
	sleep 0.05
done
echo "started $SERVER $VERSION (pid $!)"
