#!/usr/bin/env bash
# Checks a running bff-accounting: liveness, readiness, metrics, and the pilot tenant gating
# of osPolicyBridge. Needs only bash (3.2+) and curl. Run with --help for usage.
set -euo pipefail

readonly PROG=${0##*/}

usage() {
  cat <<EOF
Usage: $PROG [-h|--help] BASE_URL

Checks a running bff-accounting at BASE_URL (e.g. http://localhost:8081, with or without a
trailing slash): /health, /ready and /metrics answer, the pilot tenant is let through
osPolicyBridge, and a tenant outside the pilot is refused with 403 TENANT_NOT_ENABLED.

Checks, one PASS or FAIL line each, then "summary: N passed, M failed":
  health                    GET /health answers 200 {"status":"ok"}
  ready                     GET /ready answers 200 {"status":"ready",...}
  metrics                   GET /metrics answers 200 and exposes http_requests_total
  pilot-tenant-audit        GET /v1/accounting/audit as PILOT_TENANT/AUDIT_ROLE answers 200
                            with the tenant and its items
  pilot-tenant-sources      GET /v1/accounting/os/sources as PILOT_TENANT/SOURCES_ROLE answers
                            200 with the tenant and its sources
  non-pilot-tenant-denied   GET /v1/accounting/audit as NON_PILOT_TENANT/AUDIT_ROLE answers 403
                            with "error_code":"TENANT_NOT_ENABLED" and "tenant":"NON_PILOT_TENANT"

Environment (defaults are the values of the deploy checklist):
  PILOT_TENANT             a tenant in OS_TENANT_ALLOWLIST_JSON       (default: default)
  NON_PILOT_TENANT         a tenant not in OS_TENANT_ALLOWLIST_JSON   (default: pilot-b)
  AUDIT_ROLE               X-User-Role for the audit checks           (default: operator)
  SOURCES_ROLE             X-User-Role for the sources check          (default: admin)
  VERIFY_TIMEOUT_SECONDS   time limit of each request, whole seconds  (default: 5)
  BEARER_TOKEN             for a BFF with AUTH_MODE=jwt: a token whose tenant is PILOT_TENANT
                           and whose role holds AUDIT_ROLE's and SOURCES_ROLE's permissions
                           (e.g. admin), sent as "Authorization: Bearer" on the pilot checks
  NON_PILOT_BEARER_TOKEN   for AUTH_MODE=jwt: a token whose tenant is NON_PILOT_TENANT, sent on
                           the non-pilot check
Tenants are 1-63 characters of [a-z0-9_-]; roles 1-128 characters of [A-Za-z0-9._@:-]. Tokens are
never printed, and reach curl through a file, not its command line.

Exit codes:
  0  every check passed
  1  at least one check failed
  2  usage error: missing or bad argument, bad environment value, or curl (or mktemp, tr)
     not found on PATH
  3  the server cannot be reached (no HTTP answer to GET /health); no check was judged

Example:
  $PROG http://localhost:8081
  BEARER_TOKEN=eyJ... NON_PILOT_BEARER_TOKEN=eyJ... $PROG https://bff.example.internal/
  NON_PILOT_TENANT=pilot-c $PROG https://bff.example.internal/
EOF
}

usage_error() {
  printf '%s: %s\n' "$PROG" "$1" >&2
  printf 'Usage: %s [-h|--help] BASE_URL   (e.g. %s http://localhost:8081; --help for more)\n' "$PROG" "$PROG" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Arguments and environment

base_url=""
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    -*) usage_error "unknown option: $1" ;;
    *)
      [ -z "$base_url" ] || usage_error "expected one BASE_URL, got more than one argument"
      [ -n "$1" ] || usage_error "BASE_URL is empty"
      base_url=$1
      ;;
  esac
  shift
done
[ -n "$base_url" ] || usage_error "missing BASE_URL"

# A query or fragment would swallow the paths appended to the base URL.
url_re='^https?://[^/?#[:space:]]+(/[^?#[:space:]]*)?$'
[[ $base_url =~ $url_re ]] || usage_error "BASE_URL must start with http:// or https:// and have no query, fragment or spaces"
while [ "${base_url%/}" != "$base_url" ]; do base_url=${base_url%/}; done

# The URL as printed: credentials in it (user:password@) are never shown.
display_url=$base_url
userinfo_re='^(https?://)[^/@]*@(.*)$'
if [[ $display_url =~ $userinfo_re ]]; then display_url="${BASH_REMATCH[1]}***@${BASH_REMATCH[2]}"; fi

PILOT_TENANT=${PILOT_TENANT:-default}
NON_PILOT_TENANT=${NON_PILOT_TENANT:-pilot-b}
AUDIT_ROLE=${AUDIT_ROLE:-operator}
SOURCES_ROLE=${SOURCES_ROLE:-admin}
VERIFY_TIMEOUT_SECONDS=${VERIFY_TIMEOUT_SECONDS:-5}

# These patterns also make the values safe to use inside the regular expressions below.
tenant_re='^[a-z0-9_-]{1,63}$'
role_re='^[A-Za-z0-9._@:-]{1,128}$'
for name in PILOT_TENANT NON_PILOT_TENANT; do
  [[ ${!name} =~ $tenant_re ]] || usage_error "$name must be 1-63 characters of [a-z0-9_-]"
done
for name in AUDIT_ROLE SOURCES_ROLE; do
  [[ ${!name} =~ $role_re ]] || usage_error "$name must be 1-128 characters of [A-Za-z0-9._@:-]"
done
[ "$PILOT_TENANT" != "$NON_PILOT_TENANT" ] || usage_error "PILOT_TENANT and NON_PILOT_TENANT must differ"
timeout_re='^[1-9][0-9]{0,3}$'
[[ $VERIFY_TIMEOUT_SECONDS =~ $timeout_re ]] || usage_error "VERIFY_TIMEOUT_SECONDS must be a whole number of seconds, 1-9999"
BEARER_TOKEN=${BEARER_TOKEN:-}
NON_PILOT_BEARER_TOKEN=${NON_PILOT_BEARER_TOKEN:-}
# RFC 6750 token68; checked so a stray newline or quote cannot inject another header. Never echoed.
token_re='^[A-Za-z0-9._~+/-]+=*$'
for name in BEARER_TOKEN NON_PILOT_BEARER_TOKEN; do
  [ -z "${!name}" ] || [[ ${!name} =~ $token_re ]] || usage_error "$name must be one bearer token (e.g. a JWT), without the word Bearer"
done

for tool in curl mktemp tr rm; do
  command -v "$tool" >/dev/null 2>&1 || {
    printf '%s: %s is required but was not found on PATH\n' "$PROG" "$tool" >&2
    exit 2
  }
done

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/verify_pilot_gating.XXXXXX")
trap 'rm -rf "$tmp_dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
body_file=$tmp_dir/body
error_file=$tmp_dir/curl-error
# The Authorization headers, for curl -H @file: the tokens stay off curl's command line (ps).
pilot_auth_file=$tmp_dir/pilot-authorization
non_pilot_auth_file=$tmp_dir/non-pilot-authorization
(
  umask 077
  : >"$pilot_auth_file"
  : >"$non_pilot_auth_file"
  [ -z "$BEARER_TOKEN" ] || printf 'Authorization: Bearer %s\n' "$BEARER_TOKEN" >"$pilot_auth_file"
  [ -z "$NON_PILOT_BEARER_TOKEN" ] || printf 'Authorization: Bearer %s\n' "$NON_PILOT_BEARER_TOKEN" >"$non_pilot_auth_file"
)

# ---------------------------------------------------------------------------------------------
# Requests and verdicts

passed=0
failed=0
status=""
body=""
curl_error=""
request_label=""

pass() {
  passed=$((passed + 1))
  printf 'PASS %s\n' "$1"
}

fail() {
  failed=$((failed + 1))
  printf 'FAIL %s: %s\n' "$1" "$2"
}

# The response body as one line, cut to 200 characters, for FAIL messages.
excerpt() {
  if [ -z "$body" ]; then
    printf '(empty body)'
  elif [ "${#body}" -gt 200 ]; then
    printf '%s...' "${body:0:200}"
  else
    printf '%s' "$body"
  fi
}

# get PATH [TENANT ROLE [AUTH_FILE]]: one GET; sets status, body (one line) and request_label.
# AUTH_FILE holds the Authorization header, or nothing. Returns curl's exit code, with its
# message in curl_error, when no HTTP answer came back.
get() {
  local path=$1 tenant=${2:-} role=${3:-} auth_file=${4:-/dev/null}
  local rc=0
  local request_id="verify-pilot-gating-$((passed + failed + 1))"
  request_label="GET $path"
  : >"$body_file"
  : >"$error_file"
  if [ -n "$tenant" ]; then
    request_label="$request_label as tenant $tenant, role $role"
    status=$(curl -sS --max-time "$VERIFY_TIMEOUT_SECONDS" -A "$PROG" -o "$body_file" -w '%{http_code}' \
      -H "X-Request-Id: $request_id" -H 'Accept: application/json' \
      -H "X-Tenant: $tenant" -H "X-User-Role: $role" -H "@$auth_file" \
      "$base_url$path" 2>"$error_file") || rc=$?
  else
    status=$(curl -sS --max-time "$VERIFY_TIMEOUT_SECONDS" -A "$PROG" -o "$body_file" -w '%{http_code}' \
      -H "X-Request-Id: $request_id" \
      "$base_url$path" 2>"$error_file") || rc=$?
  fi
  body=$(tr -d '\000\r' <"$body_file" | tr '\n\t' '  ')
  curl_error=$(tr '\n' ' ' <"$error_file")
  curl_error=${curl_error% }
  [ -n "$curl_error" ] || curl_error="curl exit code $rc"
  return "$rc"
}

# fetch NAME PATH [TENANT ROLE]: like get, but a missing answer is that check's FAIL.
fetch() {
  local name=$1
  shift
  get "$@" && return 0
  fail "$name" "$request_label: no HTTP answer ($curl_error)"
  return 1
}

want_status() {
  [ "$status" = "$2" ] && return 0
  fail "$1" "$request_label: expected status $2, got $status$(auth_hint "${3:-}"): $(excerpt)"
  return 1
}

# auth_hint TOKEN_VARIABLE: on a 401, which variable the check's token comes from.
auth_hint() {
  [ "$status" = 401 ] && [ -n "$1" ] || return 0
  if [ -z "${!1}" ]; then
    printf ' (the BFF asks for a bearer token: AUTH_MODE=jwt; set %s)' "$1"
  else
    printf ' (the BFF refused %s)' "$1"
  fi
}

# want_body NAME REGEX WHAT: the one-line body matches REGEX, else FAIL saying WHAT is missing.
want_body() {
  [[ $body =~ $2 ]] && return 0
  fail "$1" "$request_label: status $status but the body lacks $3: $(excerpt)"
  return 1
}

# JSON fields are matched as text (no jq on minimal machines): "key":"value" and "key":[ with
# optional spaces. The values are validated above, so they hold no regex metacharacters.
json_string_re() { printf '"%s"[[:space:]]*:[[:space:]]*"%s"' "$1" "$2"; }
json_array_re() { printf '"%s"[[:space:]]*:[[:space:]]*\\[' "$1"; }

check_health() {
  # Doubles as the reachability probe: without any HTTP answer, the other checks mean nothing.
  if ! get /health; then
    printf '%s: cannot reach %s (%s)\n' "$PROG" "$display_url" "$curl_error" >&2
    exit 3
  fi
  want_status health 200 || return 0
  want_body health "$(json_string_re status ok)" '"status":"ok"' || return 0
  pass health
}

check_ready() {
  fetch ready /ready || return 0
  want_status ready 200 || return 0
  want_body ready "$(json_string_re status ready)" '"status":"ready"' || return 0
  pass ready
}

check_metrics() {
  fetch metrics /metrics || return 0
  want_status metrics 200 || return 0
  want_body metrics '(^|[[:space:]])http_requests_total([{[:space:]]|$)' 'the http_requests_total metric' || return 0
  pass metrics
}

# check_pilot NAME PATH ROLE LIST_FIELD
check_pilot() {
  local name=$1 path=$2 role=$3 field=$4
  fetch "$name" "$path" "$PILOT_TENANT" "$role" "$pilot_auth_file" || return 0
  want_status "$name" 200 BEARER_TOKEN || return 0
  want_body "$name" "$(json_string_re tenant "$PILOT_TENANT")" "\"tenant\":\"$PILOT_TENANT\"" || return 0
  want_body "$name" "$(json_array_re "$field")" "\"$field\":[...]" || return 0
  pass "$name"
}

check_non_pilot() {
  local name=non-pilot-tenant-denied
  fetch "$name" /v1/accounting/audit "$NON_PILOT_TENANT" "$AUDIT_ROLE" "$non_pilot_auth_file" || return 0
  if [ "$status" != 403 ]; then
    local hint=""
    if [ "$status" = 200 ]; then
      hint=" (tenant $NON_PILOT_TENANT was let through: is OS_TENANT_ALLOWLIST_JSON set without it, and OS_POLICY_BRIDGE_ENFORCE=true?)"
    fi
    hint=$hint$(auth_hint NON_PILOT_BEARER_TOKEN)
    fail "$name" "$request_label: expected status 403 TENANT_NOT_ENABLED, got $status$hint: $(excerpt)"
    return 0
  fi
  want_body "$name" "$(json_string_re error_code TENANT_NOT_ENABLED)" '"error_code":"TENANT_NOT_ENABLED"' || return 0
  want_body "$name" "$(json_string_re tenant "$NON_PILOT_TENANT")" "\"tenant\":\"$NON_PILOT_TENANT\"" || return 0
  pass "$name"
}

# ---------------------------------------------------------------------------------------------

printf 'verifying pilot gating at %s (pilot tenant %s, non-pilot tenant %s)\n' "$display_url" "$PILOT_TENANT" "$NON_PILOT_TENANT"
check_health
check_ready
check_metrics
check_pilot pilot-tenant-audit /v1/accounting/audit "$AUDIT_ROLE" items
check_pilot pilot-tenant-sources /v1/accounting/os/sources "$SOURCES_ROLE" sources
check_non_pilot
printf 'summary: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ] || exit 1
