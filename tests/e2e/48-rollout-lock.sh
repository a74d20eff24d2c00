#!/usr/bin/env bash
# 48-rollout-lock: one run at a time per backend on the same LBs. While a
# rollout waits in its upgrade hook, a second rollout of the same backend
# is refused with exit 6 and says who holds the lock; a --dry-run is not;
# once the first run ends (or is killed) the lock is free again. The state
# directory is 0700 and the lock file 0600.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 48-rollout-lock

start_backend web1 v1
start_backend web2 v1
start_lb lb1 "web1=$PORT_web1" "web2=$PORT_web2"
wait_lb_up lb1
export CUTOVER_STATE_DIR=$T/state
LBS=(--lb "unix:$(lb_sock lb1)")
cat >"$T/plan.yaml" <<PLAN
backend: app
servers: [web1]
rolling: { min_serving: 1 }
hooks:
  timeout: 30s
  upgrade: [sh, -c, 'touch "\$0"; while [ ! -e "\$1" ]; do sleep 0.05; done', "$T/in-hook", "$T/go"]
PLAN

bg_run first "$CUTOVER" "${LBS[@]}" rollout "$T/plan.yaml" --yes
wait_for "the first run is in its hook" 10 test -e "$T/in-hook"
assert_rc "a second run of the same backend: exit 6" 6 \
	"$CUTOVER" "${LBS[@]}" rollout "$T/plan.yaml" --yes
assert_match "it says who holds the lock" \
	"another cutover run holds the lock of backend 'app'.*pid $BGPID_first on .* since .*rollout $T/plan.yaml" "$ERR"
sed -e 's/servers: \[web1\]/servers: [web2]/' -e 's/min_serving: 1/min_serving: 0/' "$T/plan.yaml" >"$T/plan2.yaml"
assert_rc "a second run for another server of the backend: exit 6 too" 6 \
	"$CUTOVER" "${LBS[@]}" rollout "$T/plan2.yaml" --yes
assert_rc "a dry run is not blocked by the lock" 0 \
	"$CUTOVER" "${LBS[@]}" rollout "$T/plan2.yaml" --dry-run
assert_eq "state directory is 0700" 700 "$(stat -c %a "$T/state")"
assert_eq "lock file is 0600" 600 "$(stat -c %a "$T"/state/app-*.lock)"
touch "$T/go"
bg_wait first 30
assert_eq "the first run completes" 0 "$RC"
rm -f "$T/go" "$T/in-hook"
( sleep 0.3; touch "$T/go" ) &
e2e_track $! "releaser"
assert_rc "once it ended, a new run may start" 0 "$CUTOVER" "${LBS[@]}" rollout "$T/plan.yaml" --yes

# A run that is killed (SIGKILL) releases the lock too: the kernel drops it.
rm -f "$T/go" "$T/in-hook"
bg_run killed "$CUTOVER" "${LBS[@]}" rollout "$T/plan.yaml" --yes
wait_for "the run to kill is in its hook" 10 test -e "$T/in-hook"
kill -KILL "$BGPID_killed"
bg_wait killed 10
touch "$T/go"
lb_cmd lb1 "set server app/web1 state ready" >/dev/null	# it died in maint
assert_rc "after a SIGKILL the lock is free" 0 "$CUTOVER" "${LBS[@]}" rollout "$T/plan.yaml" --yes

e2e_done
