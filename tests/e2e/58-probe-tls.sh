#!/usr/bin/env bash
# 58-probe-tls: HTTPS probes verify certificates by default, and
# credentials in a probe URL never show. A real HAProxy terminates TLS in
# front of web1 with certificates made here by openssl (a private CA;
# subjectAltName IP:127.0.0.1 on one listener, DNS:other.test on another):
#   - no probe.http.ca: the system store does not know the CA, the probe
#     fails with curl's certificate reason, the rollout exits 1 and web1
#     stays out (maint);
#   - probe.http.ca: the CA file: the rollout exits 0;
#   - the CA, but a certificate for another name: exit 1, the reason is
#     the name check (VERIFYHOST stays on);
#   - insecure: true: exit 0 without the CA;
#   - https://user:PASSWORD@...: the password appears nowhere in stdout
#     or stderr (-vv, --json, --dry-run), only "***"; the journal keeps the
#     plan text (for resume) in a 0600 file.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 58-probe-tls

# ---- certificates ----------------------------------------------------------
mkcert() { # NAME SAN
	openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$1" \
		-keyout "$T/$1.key" -out "$T/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$2" >"$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -days 2 -sha256 -extfile "$T/$1.ext" \
		-out "$T/$1.crt" 2>/dev/null
	cat "$T/$1.crt" "$T/$1.key" >"$T/$1.pem"
}
openssl req -x509 -new -newkey rsa:2048 -nodes -days 2 -sha256 \
	-subj "/CN=cutover test CA" -keyout "$T/ca.key" -out "$T/ca.pem" \
	2>/dev/null || e2e_bail "openssl: cannot make the test CA"
mkcert loopback "IP:127.0.0.1" || e2e_bail "openssl: cannot make a certificate"
mkcert other "DNS:other.test" || e2e_bail "openssl: cannot make a certificate"

# ---- HAProxy: backend app as usual, and two TLS listeners for web1 --------
start_backend web1 v1
start_backend web2 v1
TLS_OK=$(free_port)
TLS_OTHER=$(free_port)
LB_CFG_EXTRA="
frontend tls_ok
    bind 127.0.0.1:$TLS_OK ssl crt $T/loopback.pem
    default_backend direct_web1

frontend tls_other
    bind 127.0.0.1:$TLS_OTHER ssl crt $T/other.pem
    default_backend direct_web1

backend direct_web1
    server d 127.0.0.1:$PORT_web1
"
start_lb lb1 "web1=$PORT_web1" "web2=$PORT_web2"
wait_lb_up lb1
LBS=(--lb "unix:$(lb_sock lb1)")
wait_for "TLS listener answers" 5 curl -sf --cacert "$T/ca.pem" \
	"https://127.0.0.1:$TLS_OK/version"

# plan FILE URL [MORE PROBE.HTTP KEYS]; a TLS handshake under valgrind
# takes most of a second, so the probe's times scale like every wait.
plan() {
	cat >"$1" <<PLAN
backend: app
servers: [web1]
rolling: { batch: 1, min_serving: 1 }
drain: { timeout: 5s }
hooks:
  upgrade: [true]
probe:
  http: { url: "$2", expect: 200, body: v1${3:+, $3} }
  interval: 100ms
  timeout: $(_e2e_ms 1)ms
  deadline: $(_e2e_ms 1.5)ms
PLAN
}
back_in() {
	"$CUTOVER" "${LBS[@]}" -q undrain app/web1 >/dev/null 2>&1 || true
	assert_eq "$1: web1 put back for the next case" ready \
		"$(srv_admin lb1 app/web1)"
}

# ---- verification on by default --------------------------------------------
plan "$T/default.yaml" "https://127.0.0.1:$TLS_OK/version"
assert_rc "unknown CA: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout \
	"$T/default.yaml" --yes
assert_match "unknown CA: curl's certificate reason" \
	"http: SSL certificate problem: unable to get local issuer" "$ERR$OUT"
assert_eq "unknown CA: web1 stays out" maint "$(srv_admin lb1 app/web1)"
back_in "unknown CA"

plan "$T/ca.yaml" "https://127.0.0.1:$TLS_OK/version" "ca: $T/ca.pem"
assert_rc "probe.http.ca: exit 0" 0 "$CUTOVER" "${LBS[@]}" rollout \
	"$T/ca.yaml" --yes
assert_eq "probe.http.ca: web1 ready" ready "$(srv_admin lb1 app/web1)"

plan "$T/name.yaml" "https://127.0.0.1:$TLS_OTHER/version" "ca: $T/ca.pem"
assert_rc "certificate for another name: exit 1" 1 "$CUTOVER" "${LBS[@]}" \
	rollout "$T/name.yaml" --yes
assert_match "certificate for another name: the name check says so" \
	"no alternative certificate subject name matches target host name" \
	"$ERR$OUT"
assert_eq "certificate for another name: web1 stays out" maint \
	"$(srv_admin lb1 app/web1)"
back_in "another name"

plan "$T/insecure.yaml" "https://127.0.0.1:$TLS_OTHER/version" "insecure: true"
assert_rc "insecure: true: exit 0" 0 "$CUTOVER" "${LBS[@]}" rollout \
	"$T/insecure.yaml" --yes
assert_rc "dry run says the certificate is not verified" 0 "$CUTOVER" \
	"${LBS[@]}" rollout "$T/insecure.yaml" --dry-run
assert_match "dry run: NOT verified" "certificate NOT verified" "$OUT"

plan "$T/badca.yaml" "https://127.0.0.1:$TLS_OK/version" "ca: $T/no-such-ca.pem"
# Admin state and weight of every server (the check counters move).
admin_weights() {
	lb_cmd lb1 "show servers state app" |
		awk 'NF > 8 && $1 !~ /^#/ { print $4, $7, $8 }'
}
before=$(admin_weights)
assert_rc "unreadable CA file: usage error" 2 "$CUTOVER" "${LBS[@]}" rollout \
	"$T/badca.yaml" --yes
assert_match "unreadable CA file: names the plan line and the file" \
	"badca\\.yaml:8:.*probe\\.http\\.ca: cannot read '$T/no-such-ca\\.pem'" "$ERR"
assert_eq "unreadable CA file: nothing changed" "$before" "$(admin_weights)"

# ---- credentials in the URL ------------------------------------------------
SECRET=Zq7secretPW
plan "$T/creds.yaml" "https://probeuser:$SECRET@127.0.0.1:$TLS_OK/version" \
	"ca: $T/ca.pem"
assert_rc "credentials: dry run" 0 "$CUTOVER" "${LBS[@]}" rollout \
	"$T/creds.yaml" --dry-run
assert_match "credentials: dry run shows ***" "probeuser:\\*\\*\\*@" "$OUT"
assert_eq "credentials: not in the dry run" "" "$(grep -F "$SECRET" "$OUT_FILE" "$ERR_FILE" || true)"
assert_rc "credentials: rollout -vv" 0 "$CUTOVER" "${LBS[@]}" -vv rollout \
	"$T/creds.yaml" --yes
assert_eq "credentials: not in -vv output" "" "$(grep -F "$SECRET" "$OUT_FILE" "$ERR_FILE" || true)"
assert_match "credentials: -vv names the URL with ***" "probeuser:\\*\\*\\*@" "$ERR$OUT"
assert_rc "credentials: rollout --json" 0 "$CUTOVER" "${LBS[@]}" --json \
	rollout "$T/creds.yaml" --yes
assert_eq "credentials: not in --json output" "" "$(grep -F "$SECRET" "$OUT_FILE" "$ERR_FILE" || true)"
journal=$(ls -t "$CUTOVER_STATE_DIR"/runs/*.jsonl | head -1)
assert_eq "credentials: the journal is 0600" 600 "$(stat -c %a "$journal")"
assert_eq "credentials: in the journal only inside the plan text" "plan_text" \
	"$(grep -F "$SECRET" "$journal" | jq -r 'select(.plan_text != null) | "plan_text"' | sort -u)"
assert_eq "web1 ready at the end" ready "$(srv_admin lb1 app/web1)"
e2e_done
