#!/usr/bin/env bash
# Starts the real services the integration tests need (Apache Kafka, ClickHouse),
# runs every test against them, and stops them again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

export QCREDIT_TEST_KAFKA_BROKERS=${QCREDIT_TEST_KAFKA_BROKERS:-127.0.0.1:19092}
export QCREDIT_TEST_CLICKHOUSE=${QCREDIT_TEST_CLICKHOUSE:-clickhouse://127.0.0.1:19000}
export QCREDIT_TEST_BINARY=${QCREDIT_TEST_BINARY:-$PWD/bin/qcredit}

cleanup() {
	[ -x scripts/kafka.sh ] && scripts/kafka.sh stop || true
	[ -x scripts/clickhouse.sh ] && scripts/clickhouse.sh stop || true
}
trap cleanup EXIT

[ -x scripts/kafka.sh ] && scripts/kafka.sh start
[ -x scripts/clickhouse.sh ] && scripts/clickhouse.sh start

case "${GOFLAGS:-}" in *duckdb_arrow*) ;; *) export GOFLAGS="${GOFLAGS:-} -tags=duckdb_arrow" ;; esac
go test -count=1 -timeout 30m "$@" ./...
# The portable DuckDB write path (no Arrow) is kept working too.
GOFLAGS= go test -count=1 ./warehouse/duckdb/
