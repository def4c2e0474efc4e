# Sourced by scripts/test: makes sure the tests have a real Redis.
#
# When ITFIT_TEST_REDIS_URL is already set, that Redis is used. Otherwise a
# private redis-server is started on a free loopback port, in a temporary
# directory, persisting nothing, and stopped when the calling script exits;
# redis-server is installed with apt-get when it is missing. Anything that
# goes wrong stops the run: the store is never tested against nothing.

start_test_redis() {
  if [ -n "${ITFIT_TEST_REDIS_URL:-}" ]; then
    echo "tests use the Redis at ITFIT_TEST_REDIS_URL"
    return 0
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server is missing; installing it with apt-get"
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "FATAL: cannot install redis-server (need root and apt-get); install it or set ITFIT_TEST_REDIS_URL" >&2
      return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || { echo "FATAL: apt-get update failed" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null || { echo "FATAL: apt-get install redis-server failed" >&2; return 1; }
  fi
  TEST_REDIS_DIR=$(mktemp -d)
  local port
  for port in $(seq 6390 6420); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      break
    fi
  done
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$TEST_REDIS_DIR" --daemonize yes --pidfile "$TEST_REDIS_DIR/redis.pid" \
    --logfile "$TEST_REDIS_DIR/redis.log" >/dev/null
  local i
  for i in $(seq 1 50); do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      export ITFIT_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
      trap stop_test_redis EXIT
      echo "tests use a private redis-server at 127.0.0.1:$port ($(redis-server --version | cut -d' ' -f3))"
      return 0
    fi
    sleep 0.1
  done
  echo "FATAL: redis-server did not start on port $port:" >&2
  cat "$TEST_REDIS_DIR/redis.log" >&2 || true
  return 1
}

# stop_test_redis keeps the exit status of the script that sourced this
# file: cleaning up must never turn a pass into a failure or hide one.
stop_test_redis() {
  local rc=$? pidfile pid i
  if [ -n "${TEST_REDIS_DIR:-}" ]; then
    for pidfile in "$TEST_REDIS_DIR"/*.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    done
    rm -rf "$TEST_REDIS_DIR" 2>/dev/null || true
  fi
  return $rc
}

free_port() { # free_port FROM: the first port from FROM that nothing listens on
  local port
  for port in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# start_test_topologies starts a three-primary Cluster and a primary with a
# replica behind a Sentinel, so that REDIS_URL's cluster and Sentinel forms
# are tested for real. They share the private directory and are stopped with
# the single server. The same Sentinel also watches a second primary and
# replica, "itfit-failover", that only the failover test uses: a failover of
# the shared group would lose other packages' writes in flight, as go test
# runs packages side by side.
start_test_topologies() {
  [ -n "${TEST_REDIS_DIR:-}" ] || TEST_REDIS_DIR=$(mktemp -d)
  trap stop_test_redis EXIT
  local common=(--bind 127.0.0.1 --save "" --appendonly no --daemonize yes --dir "$TEST_REDIS_DIR")
  local ports=() p i
  for i in 1 2 3; do
    p=$(free_port $((7100 + i * 10)))
    mkdir -p "$TEST_REDIS_DIR/c$p"
    redis-server --port "$p" --cluster-enabled yes --cluster-config-file "$TEST_REDIS_DIR/c$p/nodes.conf" \
      "${common[@]}" --pidfile "$TEST_REDIS_DIR/c$p.pid" --logfile "$TEST_REDIS_DIR/c$p.log"
    ports+=("$p")
  done
  for p in "${ports[@]}"; do wait_redis "$p" || return 1; done
  redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null || { echo "FATAL: redis-cli --cluster create failed" >&2; return 1; }
  for i in $(seq 1 100); do
    redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
    sleep 0.1
  done
  redis-cli -p "${ports[0]}" cluster info | grep -q 'cluster_state:ok' || { echo "FATAL: the test cluster never became ready" >&2; return 1; }
  export ITFIT_TEST_REDIS_CLUSTER_URL="redis://127.0.0.1:${ports[0]}?cluster=true&addr=127.0.0.1:${ports[1]}&addr=127.0.0.1:${ports[2]}"

  local primary replica fprimary freplica sentinel
  primary=$(free_port 7200)
  redis-server --port "$primary" "${common[@]}" --pidfile "$TEST_REDIS_DIR/p.pid" --logfile "$TEST_REDIS_DIR/p.log"
  wait_redis "$primary" || return 1
  replica=$(free_port $((primary + 1)))
  redis-server --port "$replica" --replicaof 127.0.0.1 "$primary" "${common[@]}" --pidfile "$TEST_REDIS_DIR/r.pid" --logfile "$TEST_REDIS_DIR/r.log"
  wait_redis "$replica" || return 1
  fprimary=$(free_port $((replica + 1)))
  redis-server --port "$fprimary" "${common[@]}" --pidfile "$TEST_REDIS_DIR/fp.pid" --logfile "$TEST_REDIS_DIR/fp.log"
  wait_redis "$fprimary" || return 1
  freplica=$(free_port $((fprimary + 1)))
  redis-server --port "$freplica" --replicaof 127.0.0.1 "$fprimary" "${common[@]}" --pidfile "$TEST_REDIS_DIR/fr.pid" --logfile "$TEST_REDIS_DIR/fr.log"
  wait_redis "$freplica" || return 1
  sentinel=$(free_port 26400)
  cat > "$TEST_REDIS_DIR/sentinel.conf" <<CONF
port $sentinel
bind 127.0.0.1
daemonize yes
pidfile $TEST_REDIS_DIR/s.pid
logfile $TEST_REDIS_DIR/s.log
dir $TEST_REDIS_DIR
sentinel monitor itfit 127.0.0.1 $primary 1
sentinel down-after-milliseconds itfit 1000
sentinel failover-timeout itfit 5000
sentinel monitor itfit-failover 127.0.0.1 $fprimary 1
sentinel down-after-milliseconds itfit-failover 1000
sentinel failover-timeout itfit-failover 5000
CONF
  redis-server "$TEST_REDIS_DIR/sentinel.conf" --sentinel
  wait_redis "$sentinel" || return 1
  export ITFIT_TEST_REDIS_SENTINEL_URL="redis://127.0.0.1:$sentinel/0?master_name=itfit"
  export ITFIT_TEST_REDIS_FAILOVER_URL="redis://127.0.0.1:$sentinel/0?master_name=itfit-failover"
  echo "tests also use a Redis Cluster (${ports[*]}) and a Sentinel ($sentinel) over a primary and replica ($primary, $replica), and for the failover test alone another pair ($fprimary, $freplica)"
}

wait_redis() {
  local i
  for i in $(seq 1 50); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FATAL: redis on port $1 did not start" >&2
  return 1
}
