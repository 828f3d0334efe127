#!/usr/bin/env bash
# Starts and stops a private RabbitMQ broker on 127.0.0.1 for tests: its own ports, its own epmd
# (ERL_EPMD_PORT), all state under one directory. Usage:
#   rabbitmq.sh start DIR     start (or restart on the same ports and data) and wait until ready;
#                             prints the AMQP port and writes DIR/broker.env
#   rabbitmq.sh stop DIR      shut it down, then stop its epmd
#   rabbitmq.sh fresh DIR     stop whatever a previous run left in DIR, wipe DIR, start anew
#   rabbitmq.sh ctl DIR ARGS  rabbitmqctl against it
set -euo pipefail

command=${1:?usage: rabbitmq.sh start|stop|fresh|ctl DIR [ARGS]}
dir=${2:?usage: rabbitmq.sh start|stop|fresh|ctl DIR [ARGS]}
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=/usr/lib/rabbitmq/bin

if [ "$command" = fresh ]; then
  [ -f "$dir/broker.env" ] && "$0" stop "$dir" || true
  rm -rf "${dir:?}"/*
  exec "$0" start "$dir"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

if [ ! -f "$dir/broker.env" ]; then
  [ "$command" = start ] || { echo "no broker in $dir" >&2; exit 1; }
  {
    echo "PORT=$(free_port)"
    echo "DIST_PORT=$(free_port)"
    echo "EPMD_PORT=$(free_port)"
  } > "$dir/broker.env"
fi
# shellcheck disable=SC1091
source "$dir/broker.env"

export HOME=$dir/home RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT=$PORT RABBITMQ_DIST_PORT=$DIST_PORT ERL_EPMD_ADDRESS=127.0.0.1 \
  ERL_EPMD_PORT=$EPMD_PORT RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log \
  RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_CONF_ENV_FILE=/dev/null \
  RABBITMQ_CONFIG_FILE=$dir/rabbitmq RABBITMQ_PID_FILE=$dir/rabbit.pid \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

case "$command" in
  start)
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    : > "$dir/enabled_plugins"
    # Quiet logs to files only; no console output from the detached node.
    [ -f "$dir/rabbitmq.conf" ] || printf 'log.console = false\nlog.file.level = warning\n' > "$dir/rabbitmq.conf"
    "$bin/rabbitmq-server" -detached > "$dir/log/start.out" 2>&1
    if ! timeout 90 "$bin/rabbitmqctl" wait --timeout 60 "$RABBITMQ_PID_FILE" > "$dir/log/wait.out" 2>&1; then
      echo "rabbitmq did not start; see $dir/log" >&2
      cat "$dir/log/wait.out" >&2
      exit 1
    fi
    echo "$PORT"
    ;;
  stop)
    pid=$(cat "$RABBITMQ_PID_FILE" 2>/dev/null || true)
    timeout 30 "$bin/rabbitmqctl" shutdown > "$dir/log/stop.out" 2>&1 || true
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    # The epmd this node started listens on our private port; nothing else uses it.
    epmd_pid=$(ss -ltnpH "sport = :$EPMD_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
    if [ -n "$epmd_pid" ]; then kill "$epmd_pid" 2>/dev/null || true; fi
    ;;
  ctl)
    exec timeout 60 "$bin/rabbitmqctl" "$@"
    ;;
  *)
    echo "unknown command $command" >&2
    exit 2
    ;;
esac
