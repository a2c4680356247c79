#!/usr/bin/env bash
# Starts and stops a throwaway clickhouse-server for the tests: its own temp
# directory (data, config, logs, pidfile) and test ports on 127.0.0.1, so it
# never touches a system ClickHouse on 9000/8123.
#
#   scripts/clickhouse.sh start|stop|status
#   scripts/clickhouse.sh cluster-start|cluster-stop
#
# cluster-start starts ZooKeeper (Debian zookeeperd, installed when missing) on
# ${ZOOKEEPER_PORT:-12181} and instances 2 and 3 as the two shards of the
# cluster "qcredit" (native ports 19100 and 19200), for the cluster tests.
#
# Environment:
#   CLICKHOUSE_INSTANCE  1, 2, … : several servers side by side (default 1).
#                        Instance N defaults to ports 19000+100(N-1) (native),
#                        18123+100(N-1) (HTTP), 19009+100(N-1) (interserver).
#   CLICKHOUSE_PORT      native TCP port (overrides the default above).
#   CLICKHOUSE_DIR       data directory (default ${TMPDIR:-/tmp}/qcredit-clickhouse-N).
#   CLICKHOUSE_CLUSTER_PORTS  comma-separated native ports of every server of
#                        the test cluster "qcredit" (one shard each; default:
#                        this server alone). Instance N is shard N.
#   CLICKHOUSE_ZOOKEEPER host:port of a ZooKeeper for Replicated tables and
#                        ON CLUSTER DDL (optional; without it only local DDL works).
set -euo pipefail

instance=${CLICKHOUSE_INSTANCE:-1}
offset=$(( (instance - 1) * 100 ))
port=${CLICKHOUSE_PORT:-$((19000 + offset))}
http_port=$((18123 + offset))
interserver_port=$((19009 + offset))
dir=${CLICKHOUSE_DIR:-${TMPDIR:-/tmp}/qcredit-clickhouse-$instance}
pidfile=$dir/clickhouse.pid
cluster_ports=${CLICKHOUSE_CLUSTER_PORTS:-$port}

server_cmd() {
	if command -v clickhouse-server >/dev/null; then
		echo clickhouse-server
	elif [ -x /usr/sbin/clickhouse-server ]; then
		echo /usr/sbin/clickhouse-server
	elif command -v clickhouse >/dev/null; then
		echo "clickhouse server"
	fi
}

# install puts Debian's ClickHouse on a fresh machine (CI); it is a no-op here.
install() {
	if [ -n "$(server_cmd)" ] && command -v clickhouse-client >/dev/null; then
		return
	fi
	echo "clickhouse: installing clickhouse-server and clickhouse-client (apt)" >&2
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y clickhouse-server clickhouse-client
}

write_config() {
	mkdir -p "$dir"/{data,tmp,user_files,format_schemas}
	local shards="" i=0 p
	IFS=, read -ra ports <<<"$cluster_ports"
	for p in "${ports[@]}"; do
		shards+="<shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>$p</port></replica></shard>"
	done
	local zk=""
	if [ -n "${CLICKHOUSE_ZOOKEEPER:-}" ]; then
		zk="<zookeeper><node><host>${CLICKHOUSE_ZOOKEEPER%:*}</host><port>${CLICKHOUSE_ZOOKEEPER##*:}</port></node></zookeeper>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>"
	fi
	cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/server.log</log>
        <errorlog>$dir/server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$port</tcp_port>
    <http_port>$http_port</http_port>
    <interserver_http_port>$interserver_port</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <max_connections>256</max_connections>
    <max_concurrent_queries>100</max_concurrent_queries>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <remote_servers><qcredit>$shards</qcredit></remote_servers>
    <macros><shard>$instance</shard><replica>r$instance</replica></macros>
    $zk
</yandex>
EOF
	cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
	if running; then
		echo "clickhouse $instance: already running (pid $(cat "$pidfile"), port $port)"
		return
	fi
	install
	rm -rf "$dir"
	write_config
	# setsid: the server outlives this script and is stopped by its pid only.
	# shellcheck disable=SC2046
	setsid $(server_cmd) --config-file="$dir/config.xml" >"$dir/stdout.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
	local deadline=$((SECONDS + 60))
	until clickhouse-client --host 127.0.0.1 --port "$port" -q 'SELECT 1' >/dev/null 2>&1; do
		if ! running || [ $SECONDS -ge $deadline ]; then
			echo "clickhouse $instance: server did not answer on port $port within 60 s" >&2
			tail -n 40 "$dir/server.err.log" "$dir/stdout.log" >&2 2>/dev/null || true
			stop
			exit 1
		fi
		sleep 0.5
	done
	echo "clickhouse $instance: $(clickhouse-client --port "$port" -q 'SELECT version()') on 127.0.0.1:$port (pid $(cat "$pidfile"), dir $dir)"
}

stop() {
	if [ -f "$pidfile" ] && ! running; then
		# It died on its own: say so with the end of its logs before they go.
		echo "clickhouse $instance: the server on port $port had exited; the end of its logs:" >&2
		tail -n 40 "$dir/server.err.log" "$dir/stdout.log" >&2 2>/dev/null || true
	fi
	if running; then
		local pid
		pid=$(cat "$pidfile")
		kill "$pid"
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}

zk_port=${ZOOKEEPER_PORT:-12181}
zk_dir=${TMPDIR:-/tmp}/qcredit-zookeeper

zookeeper_start() {
	if [ ! -f /usr/share/java/zookeeper.jar ]; then
		echo "zookeeper: installing zookeeperd (apt)" >&2
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y zookeeperd
	fi
	zookeeper_stop
	mkdir -p "$zk_dir/data"
	# Standalone server on a test port; the Debian service (2181) is not used.
	setsid java -cp "/etc/zookeeper/conf:/usr/share/java/*" -Dzookeeper.admin.enableServer=false \
		org.apache.zookeeper.server.ZooKeeperServerMain "$zk_port" "$zk_dir/data" >"$zk_dir/zookeeper.log" 2>&1 </dev/null &
	echo $! >"$zk_dir/zookeeper.pid"
	local deadline=$((SECONDS + 60))
	until (exec 3<>"/dev/tcp/127.0.0.1/$zk_port") 2>/dev/null; do
		if ! kill -0 "$(cat "$zk_dir/zookeeper.pid")" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			echo "zookeeper: not listening on $zk_port within 60 s" >&2
			tail -n 40 "$zk_dir/zookeeper.log" >&2 || true
			zookeeper_stop
			exit 1
		fi
		sleep 0.5
	done
	echo "zookeeper: 127.0.0.1:$zk_port (pid $(cat "$zk_dir/zookeeper.pid"))"
}

zookeeper_stop() {
	if [ -f "$zk_dir/zookeeper.pid" ]; then
		kill "$(cat "$zk_dir/zookeeper.pid")" 2>/dev/null || true
	fi
	rm -rf "$zk_dir"
}

cluster() {
	for i in 2 3; do
		CLICKHOUSE_INSTANCE=$i CLICKHOUSE_PORT="" CLICKHOUSE_DIR="" CLICKHOUSE_CLUSTER_PORTS=19100,19200 \
			CLICKHOUSE_ZOOKEEPER=127.0.0.1:$zk_port "$0" "$1"
	done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
cluster-start)
	zookeeper_start
	cluster start
	# Ready when a shard reaches ZooKeeper (the JVM accepts before it serves).
	deadline=$((SECONDS + 60))
	until clickhouse-client --port 19100 -q "SELECT count() FROM system.zookeeper WHERE path = '/'" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			echo "cluster: shard 1 cannot reach ZooKeeper on $zk_port within 60 s" >&2
			tail -n 40 "$zk_dir/zookeeper.log" >&2 || true
			exit 1
		fi
		sleep 0.5
	done
	# 18.16 shards have died on their first ON CLUSTER DDL after a start (rare,
	# seen under load). Tests get a cluster that has come through one: run it
	# here and restart the shards when one did not survive it.
	for attempt in 1 2 3; do
		ddl() { clickhouse-client --port 19100 --distributed_ddl_task_timeout=30 -q "$1 ON CLUSTER qcredit" >/dev/null 2>&1; }
		if ddl "CREATE DATABASE IF NOT EXISTS qcredit_warmup" && ddl "DROP DATABASE IF EXISTS qcredit_warmup" &&
			clickhouse-client --port 19100 -q 'SELECT 1' >/dev/null 2>&1 &&
			clickhouse-client --port 19200 -q 'SELECT 1' >/dev/null 2>&1; then
			break
		fi
		if [ "$attempt" -eq 3 ]; then
			echo "cluster: the shards keep failing their first ON CLUSTER DDL" >&2
			exit 1
		fi
		echo "cluster: a shard did not come through its first ON CLUSTER DDL; restarting the shards (attempt $attempt)" >&2
		cluster stop
		cluster start
	done
	;;
cluster-stop) cluster stop; zookeeper_stop ;;
status) if running; then echo "running (pid $(cat "$pidfile"), port $port)"; else echo stopped; exit 1; fi ;;
*) echo "usage: $0 start|stop|status|cluster-start|cluster-stop" >&2; exit 2 ;;
esac
