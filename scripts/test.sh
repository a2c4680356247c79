#!/usr/bin/env bash
# Starts the real services the integration tests need (Apache Kafka, ClickHouse),
# runs every test against them, and stops them again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

# Services and test files live in memory (tmpfs) where the machine has one:
# Kafka's KRaft log and DuckDB fsync, and a virtual disk that stalls on fsync
# for seconds makes a broker miss its deadlines. QCREDIT_TEST_TMPDIR overrides.
tmp=${QCREDIT_TEST_TMPDIR:-} ours=""
# The tests need a few GB there; a container's 64 MB /dev/shm is not used.
shm_free_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
if [ -z "$tmp" ] && [ -w /dev/shm ] && [ "${shm_free_kb:-0}" -ge $((4 * 1024 * 1024)) ]; then
	tmp=/dev/shm/qcredit-test ours=1
fi
if [ -n "$tmp" ]; then
	mkdir -p "$tmp"
	export TMPDIR=$tmp
fi

export QCREDIT_TEST_KAFKA_BROKERS=${QCREDIT_TEST_KAFKA_BROKERS:-127.0.0.1:19092}
export QCREDIT_TEST_CLICKHOUSE=${QCREDIT_TEST_CLICKHOUSE:-clickhouse://127.0.0.1:19000}
export QCREDIT_TEST_BINARY=${QCREDIT_TEST_BINARY:-$PWD/bin/qcredit}
# A failed Kafka test prints the end of the broker's log (scripts/kafka.sh's default place).
export QCREDIT_TEST_KAFKA_LOG=${QCREDIT_TEST_KAFKA_LOG:-${TMPDIR:-/tmp}/qcredit-kafka-19092/kafka.log}

cleanup() {
	[ -x scripts/kafka.sh ] && scripts/kafka.sh stop || true
	[ -x scripts/clickhouse.sh ] && scripts/clickhouse.sh stop || true
	[ -z "$ours" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# A published draw is recomputed independently with Python's standard library
# (planning/testdata/verify_draw.py), and the README's partner-side example of
# the lists runs against a live API; CI requires both.
if ! command -v python3 >/dev/null; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "test.sh: installing python3 (apt)" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-minimal >/dev/null
fi
# Headless Chromium and CJK fonts print the warning letters to PDF (api
# tests); the HTTP benchmarks' tests drive servers with wrk.
if ! dpkg -s chromium fonts-noto-cjk wrk >/dev/null 2>&1; then
	sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-noto-cjk wrk >/dev/null
fi

[ -x scripts/kafka.sh ] && scripts/kafka.sh start
[ -x scripts/clickhouse.sh ] && scripts/clickhouse.sh start

case "${GOFLAGS:-}" in *duckdb_arrow*) ;; *) export GOFLAGS="${GOFLAGS:-} -tags=duckdb_arrow" ;; esac
go test -count=1 -timeout 30m "$@" ./...
# The portable DuckDB write path (no Arrow) is kept working too.
GOFLAGS= go test -count=1 ./warehouse/duckdb/
# The API against its OpenAPI document, by an outside tool (a few minutes).
scripts/schemathesis.sh
