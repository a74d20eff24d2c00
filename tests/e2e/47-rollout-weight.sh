#!/usr/bin/env bash
# 47-rollout-weight: HAProxy's `ready` does not restore a weight. If a
# server's weight changed while it was out (here the upgrade hook itself
# sets it to 3 on both LBs), the rollout puts back the weight it had
# before, on every LB; servers whose weight did not change keep theirs.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 47-rollout-weight

start_backend web1 v1
start_backend web2 v1
LB_SERVER_OPTS="weight 10"
start_lb lb1 "web1=$PORT_web1" "web2=$PORT_web2"
start_lb lb2 "web1=$PORT_web1" "web2=$PORT_web2"
wait_lb_up lb1
wait_lb_up lb2
lb_cmd lb1 "set weight app/web2 7" >/dev/null
lb_cmd lb2 "set weight app/web2 7" >/dev/null

cat >"$T/plan.yaml" <<PLAN
backend: app
servers: all
rolling: { batch: 1, min_serving: 1 }
hooks:
  upgrade:
    - [sh, -c, 'for s in "\$0" "\$1"; do echo "set weight app/{server} 3" | socat - "UNIX-CONNECT:\$s"; done', "$T/lb1.sock", "$T/lb2.sock"]
PLAN
assert_rc "rollout exits 0" 0 "$CUTOVER" --lb "unix:$(lb_sock lb1)" \
	--lb "tcp:$(lb_sock lb2 tcp)" rollout "$T/plan.yaml" --yes
assert_match "says it puts the weight back" "web1 \\[enabling\\] weight changed while it was out: setting it back to 10" "$OUT"
for lb in lb1 lb2; do
	assert_eq "web1 weight back to 10 on $lb" 10 "$(srv_weight $lb app/web1)"
	assert_eq "web2 weight back to 7 on $lb (its own before the run)" 7 "$(srv_weight $lb app/web2)"
	assert_eq "web1 ready on $lb" ready "$(srv_admin $lb app/web1)"
done

e2e_done
