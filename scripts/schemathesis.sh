#!/usr/bin/env bash
# Checks the running API against its own OpenAPI document with schemathesis
# (PyPI), an outside tool that generates requests from the document and
# checks every answer: no 5xx, every status documented for its operation,
# content types, headers and bodies as the document says.
#
#   scripts/schemathesis.sh            # builds nothing: uses bin/qcredit
#
# It starts `qcredit serve` on a small simulated city in a temporary DuckDB
# file, creates a key of every scope, and runs schemathesis once per scope
# over the operations tagged with it (public without a key and with a
# public key, ops without a key), each run bounded in time, a few minutes in
# all (7 × SCHEMATHESIS_MAX_TIME at most). Schemathesis is installed into
# a virtual environment cached in ~/.cache/qcredit/schemathesis-venv.
#
# Environment:
#   QCREDIT_TEST_BINARY        the qcredit binary (default bin/qcredit)
#   SCHEMATHESIS_VERSION       the version installed (default below)
#   SCHEMATHESIS_MAX_TIME      seconds per scope's run (default 40)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation (default 30)
#
# Checks not run, on purpose: positive_data_acceptance and
# negative_data_rejection judge validity by the document alone, while the API
# checks more than a schema can say (a USCC's check characters, a region that
# exists, a firm the name search resolves), so schema-valid requests are
# rightly refused with 400 or 422.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${SCHEMATHESIS_VERSION:-4.32.5}
max_time=${SCHEMATHESIS_MAX_TIME:-40}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-30}
bin=${QCREDIT_TEST_BINARY:-$PWD/bin/qcredit}
venv=${XDG_CACHE_HOME:-$HOME/.cache}/qcredit/schemathesis-venv

install() {
	if [ -x "$venv/bin/schemathesis" ] && [ "$("$venv/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" = "$version" ]; then
		return
	fi
	if ! python3 -m venv --help >/dev/null 2>&1; then
		echo "schemathesis: installing python3-venv (apt)" >&2
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y python3-venv python3-pip
	fi
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
}

install
work=$(mktemp -d "${TMPDIR:-/tmp}/qcredit-schemathesis.XXXXXX")
serve_pid=""
cleanup() {
	[ -z "$serve_pid" ] || { kill -INT "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT

export QCREDIT_WAREHOUSE="duckdb://$work/qcredit.duckdb" QCREDIT_LOG_LEVEL=warn QCREDIT_KAFKA_BROKERS=
# Schemathesis sends thousands of requests from one address: the public
# rate limit is raised for the run (its own test covers the limit).
export QCREDIT_API_PUBLIC_RATE=1000000 QCREDIT_API_PUBLIC_BURST=1000000 QCREDIT_SCHEDULER_ENABLED=false

"$bin" simulate --enterprises 300 --years 1 --seed 11 --out "$work/city.jsonl" >/dev/null
"$bin" import -q "$work/city.jsonl" >/dev/null
"$bin" pipeline run score >/dev/null
declare -A keys
for scope in public ingest partner analyst admin; do
	src=""
	[ "$scope" != ingest ] || src="--source 320800"
	# shellcheck disable=SC2086
	keys[$scope]=$("$bin" keys create --name "schemathesis-$scope" --scope "$scope" $src 2>/dev/null)
done

QCREDIT_LOG_LEVEL=info "$bin" serve --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
serve_pid=$!
addr=""
for _ in $(seq 1 600); do
	addr=$(sed -n 's/.*msg=serving addr=\([^ ]*\).*/\1/p' "$work/serve.log" | head -1)
	[ -z "$addr" ] || break
	kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
	sleep 0.1 # polling the log for the address, with a deadline
done
[ -n "$addr" ] || { echo "schemathesis: serve did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
base="http://$addr"

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
failed=0
run() { # run LABEL TAG [HEADER]
	local label=$1 tag=$2 header=${3:-}
	local ops
	ops=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for p in d["paths"].values() for o in p.values() if isinstance(o,dict) and sys.argv[2] in o.get("tags",[])))' "$work/openapi.json" "$tag")
	if [ "$ops" -eq 0 ]; then
		echo "schemathesis: no operations tagged $tag yet"
		return
	fi
	echo "schemathesis: $label ($ops operations tagged $tag)"
	local args=(run "$base/api/openapi.json" --url "$base" --include-tag "$tag" --checks "$checks"
		--max-time "$max_time" --max-examples "$max_examples" --seed 1 --workers 1 --no-color
		--request-timeout 30 --warnings off)
	[ -z "$header" ] || args+=(-H "$header")
	"$venv/bin/schemathesis" "${args[@]}" || failed=1
}
curl -sf "$base/api/openapi.json" -o "$work/openapi.json"
run "public routes, no key" public
# A caller may send a public-scope key (a portal, to be named in the audit):
# the public routes must answer it as they answer no key.
run "public routes, public key" public "Authorization: Bearer ${keys[public]}"
run "ops, no key" ops
for scope in ingest partner analyst admin; do
	run "scope $scope" "$scope" "Authorization: Bearer ${keys[$scope]}"
done
if grep -q 'level=ERROR' "$work/serve.log"; then
	echo "schemathesis: serve logged errors:" >&2
	grep 'level=ERROR' "$work/serve.log" | head -20 >&2
	failed=1
fi
exit $failed
