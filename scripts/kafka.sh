#!/usr/bin/env bash
# Start / stop a single-node Apache Kafka broker (KRaft) from the jars on Maven Central.
# Usage: scripts/kafka.sh start|stop|status|reset
# Env: KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_DATA_DIR, KAFKA_HEAP, KAFKA_VERSION (default: pom.xml).
# Idempotent: `start` finds a broker already serving on $KAFKA_PORT and leaves it alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
DATA="${KAFKA_DATA_DIR:-$ROOT/.data/kafka}"
# KAFKA_VERSION overrides the pinned version (compatibility checks only; see docs/adr/0002-kafka-broker.md).
VERSION="${KAFKA_VERSION:-$(sed -n 's#.*<kafka.version>\(.*\)</kafka.version>.*#\1#p' "$ROOT/scripts/kafka/pom.xml")}"
LIBS="$ROOT/.data/kafka-dist/$VERSION/libs"
PIDFILE="$DATA/kafka.pid"

serving() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  echo "kafka: fetching Apache Kafka $VERSION jars from Maven Central" >&2
  mkdir -p "$LIBS"
  (cd "$ROOT/scripts/kafka" && mvn -q -B dependency:copy-dependencies -Dkafka.version="$VERSION" \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime)
  touch "$LIBS/.complete"
}

java_cmd() { java -Xms256m -Xmx"${KAFKA_HEAP:-768m}" -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration="file:$DATA/log4j.properties" -Dkafka.logs.dir="$DATA/logs" -cp "$LIBS/*" "$@"; }

configure() {
  mkdir -p "$DATA/logs" "$DATA/data"
  cat > "$DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA/data
num.partitions=12
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=134217728
PROPS
  cat > "$DATA/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
}

start() {
  if serving; then echo "kafka: already serving on 127.0.0.1:$PORT"; return 0; fi
  fetch
  configure
  if [ ! -f "$DATA/data/meta.properties" ]; then
    java_cmd kafka.tools.StorageTool format -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
      -c "$DATA/server.properties" --ignore-formatted >/dev/null
  fi
  # server.log survives restarts: only a STARTED line written after this launch counts.
  local seen=0
  [ -f "$DATA/logs/server.log" ] && seen="$(wc -l < "$DATA/logs/server.log")"
  nohup java -Xms256m -Xmx"${KAFKA_HEAP:-768m}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$DATA/log4j.properties" -Dkafka.logs.dir="$DATA/logs" \
    -cp "$LIBS/*" kafka.Kafka "$DATA/server.properties" >"$DATA/logs/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 120); do
    if serving && tail -n +"$((seen + 1))" "$DATA/logs/server.log" 2>/dev/null | grep -q "Transition from STARTING to STARTED"; then
      echo "kafka: $VERSION serving on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; return 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "kafka: broker exited; see $DATA/logs" >&2; tail -20 "$DATA/logs/stdout.log" >&2; return 1
    fi
    sleep 0.5
  done
  echo "kafka: not serving after 60 s; see $DATA/logs" >&2; return 1
}

stop() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 1 60); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$(cat "$PIDFILE")" 2>/dev/null || true
    echo "kafka: stopped"
  else
    echo "kafka: not running (from this checkout)"
  fi
  rm -f "$PIDFILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if serving; then echo "kafka: serving on 127.0.0.1:$PORT"; else echo "kafka: down"; exit 1; fi ;;
  reset) stop; rm -rf "$DATA"; echo "kafka: data removed" ;;
  *) echo "usage: $0 start|stop|restart|status|reset" >&2; exit 2 ;;
esac
