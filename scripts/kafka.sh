#!/usr/bin/env bash
# Starts and stops a throwaway Apache Kafka 4.x broker for the integration
# tests: one KRaft node (broker and controller combined) on 127.0.0.1, its own
# temp directory (config, data, log, pidfile). The jars come from Maven Central
# (org.apache.kafka:kafka_2.13) through mvn and are cached, so only the first
# run on a machine downloads anything. It also installs kcat (Debian), which
# the tests use as an outside producer.
#
#   scripts/kafka.sh start     format a fresh data dir (or reuse a kept one), start, wait until it answers
#   scripts/kafka.sh stop      stop it and remove its directory (KAFKA_KEEP_DATA=1 keeps the data)
#   scripts/kafka.sh restart   stop and start again keeping the data (topics, offsets, groups survive)
#   scripts/kafka.sh status    exit 0 when it runs
#
# Environment:
#   KAFKA_PORT        client port (default 19092); the controller listens on KAFKA_PORT+1.
#   KAFKA_DIR         state directory (default ${TMPDIR:-/tmp}/qcredit-kafka-$KAFKA_PORT).
#   KAFKA_VERSION     org.apache.kafka:kafka_2.13 version (default 4.1.1).
#   KAFKA_CACHE       jar cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/qcredit/kafka).
#   KAFKA_START_TIMEOUT  seconds to wait for the broker to answer (default 90).
set -euo pipefail

port=${KAFKA_PORT:-19092}
controller_port=$((port + 1))
version=${KAFKA_VERSION:-4.1.1}
dir=${KAFKA_DIR:-${TMPDIR:-/tmp}/qcredit-kafka-$port}
cache=${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qcredit/kafka}/$version
libs=$cache/libs
pidfile=$dir/kafka.pid
logfile=$dir/kafka.log
timeout=${KAFKA_START_TIMEOUT:-90}

log() { echo "kafka.sh: $*" >&2; }

install_kcat() {
	command -v kcat >/dev/null && return
	log "installing kcat (apt)"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq kcat >/dev/null
}

install_java() {
	command -v java >/dev/null && command -v mvn >/dev/null && return
	log "installing a JDK and maven (apt)"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq default-jdk-headless maven >/dev/null
}

# fetch_jars resolves the broker and its runtime dependencies once per version.
# slf4j-simple matches the slf4j-api 1.7 that Kafka 4.1 brings, so the broker
# logs to stderr (our log file) instead of needing a log4j2 config.
fetch_jars() {
	[ -f "$libs/.complete" ] && return
	log "fetching Apache Kafka $version from Maven Central into $libs"
	mkdir -p "$cache"
	cat >"$cache/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>qcredit</groupId><artifactId>kafka-test-broker</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
	rm -rf "$libs"
	mvn -q -B -f "$cache/pom.xml" dependency:copy-dependencies \
		-DoutputDirectory="$libs" -DincludeScope=runtime >&2
	touch "$libs/.complete"
}

write_config() {
	mkdir -p "$dir/data"
	# Small internal topics and no rebalance delay keep test startup and
	# consumer-group joins fast; replication factors of 1 fit a single node.
	cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
EOF
}

running() {
	[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# answers is true once the broker serves a metadata request.
answers() {
	kcat -L -b "127.0.0.1:$port" -m 2 >/dev/null 2>&1
}

start() {
	if running; then
		log "already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"
		return
	fi
	install_kcat
	if answers; then
		log "a broker not started by this script already answers on 127.0.0.1:$port; using it"
		return
	fi
	install_java
	fetch_jars
	write_config
	local cp="$libs/*"
	if [ ! -f "$dir/data/meta.properties" ]; then
		local id
		id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
		java -cp "$cp" kafka.tools.StorageTool format --standalone -t "$id" \
			-c "$dir/server.properties" >>"$logfile" 2>&1 ||
			{ tail -50 "$logfile" >&2; log "formatting storage failed"; exit 1; }
	fi
	# setsid: the broker outlives this script and is not hit by the test
	# runner's Ctrl-C; stop ends it by its pid.
	setsid java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
		-cp "$cp" kafka.Kafka "$dir/server.properties" >>"$logfile" 2>&1 </dev/null &
	echo $! >"$pidfile"
	local deadline=$((SECONDS + timeout))
	until answers; do
		if ! running; then
			tail -50 "$logfile" >&2
			log "broker exited during startup (log: $logfile)"
			exit 1
		fi
		if ((SECONDS >= deadline)); then
			tail -50 "$logfile" >&2
			log "broker did not answer on 127.0.0.1:$port within ${timeout}s (log: $logfile)"
			stop_broker
			exit 1
		fi
		sleep 0.5
	done
	log "Apache Kafka $version running on 127.0.0.1:$port (pid $(cat "$pidfile"), dir $dir)"
}

stop_broker() {
	running || return 0
	local pid
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null || true
	# A controlled shutdown takes a few seconds; after 30 s kill it outright.
	for _ in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$pidfile"
}

stop() {
	stop_broker
	if [ "${KAFKA_KEEP_DATA:-0}" != 1 ]; then
		rm -rf "$dir"
	fi
}

case ${1:-} in
start) start ;;
stop) stop ;;
restart)
	KAFKA_KEEP_DATA=1 stop
	start
	;;
status) running ;;
*)
	echo "usage: $0 start|stop|restart|status" >&2
	exit 2
	;;
esac
