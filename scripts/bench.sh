#!/usr/bin/env bash
# Runs the benchmarks (README, Benchmarks) on this machine, one after another:
# import, ingest, score, clusters, lookup, creditfile, search, http-ingest and
# lists; score, clusters, lookup and creditfile on one bench city (1,000,000
# enterprises, about 30M events) generated once into a temporary directory
# and removed at the end, with whatever servers were started.
#
# Environment:
#   QCREDIT_BENCH_DIR   where the bench city's directory is made (default ${TMPDIR:-/tmp});
#                       about 6 GB: use a disk, not a small tmpfs.
#   QCREDIT_BENCH_ARGS  extra flags for score, lookup and creditfile (e.g. "--enterprises 100000").
#   CLICKHOUSE_PORT     native port of the ClickHouse to load (default 19000; started when none answers).
#   Kafka: the broker on 127.0.0.1:19092 (scripts/kafka.sh; started when none answers).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/qcredit

if ! command -v wrk >/dev/null; then
	echo "bench: installing wrk (apt)" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk
fi

port=${CLICKHOUSE_PORT:-19000}
started_clickhouse="" started_kafka=""
dir=$(mktemp -d "${QCREDIT_BENCH_DIR:-${TMPDIR:-/tmp}}/qcredit-bench-XXXXXX")
cleanup() {
	rm -rf "$dir"
	[ -z "$started_clickhouse" ] || CLICKHOUSE_PORT=$port scripts/clickhouse.sh stop || true
	[ -z "$started_kafka" ] || scripts/kafka.sh stop || true
}
trap cleanup EXIT
if ! clickhouse-client --port "$port" -q "SELECT 1" >/dev/null 2>&1; then
	CLICKHOUSE_PORT=$port scripts/clickhouse.sh start
	started_clickhouse=1
fi
ch=clickhouse://127.0.0.1:$port
if ! (exec 3<>/dev/tcp/127.0.0.1/19092) 2>/dev/null; then
	scripts/kafka.sh start
	started_kafka=1
fi

# shellcheck disable=SC2086 # QCREDIT_BENCH_ARGS is a list of flags
{
	$bin bench import --clickhouse "$ch"
	$bin bench ingest --brokers 127.0.0.1:19092
	$bin bench score --dir "$dir" ${QCREDIT_BENCH_ARGS:-}
	$bin bench clusters --dir "$dir" ${QCREDIT_BENCH_ARGS:-}
	$bin bench lookup --dir "$dir" ${QCREDIT_BENCH_ARGS:-}
	$bin bench creditfile --dir "$dir" --clickhouse "$ch" ${QCREDIT_BENCH_ARGS:-}
	$bin bench search
	$bin bench http-ingest
	$bin bench lists
}
