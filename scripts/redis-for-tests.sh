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

stop_test_redis() {
  if [ -n "${TEST_REDIS_DIR:-}" ] && [ -f "$TEST_REDIS_DIR/redis.pid" ]; then
    kill "$(cat "$TEST_REDIS_DIR/redis.pid")" 2>/dev/null || true
    rm -rf "$TEST_REDIS_DIR"
  fi
}
