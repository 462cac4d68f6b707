#!/usr/bin/env bash
# Start the local services the test suite talks to, when they are down (PostgreSQL, Redis).
set -u
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "starting Redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
pg_isready -h 127.0.0.1 -p 5432 >&2 || { echo "PostgreSQL at 127.0.0.1:5432 is not reachable" >&2; exit 1; }
# tests/test_distributed.py needs Redis: fail here, with the reason, rather than in the middle of the suite.
for _ in $(seq 1 10); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
redis-cli -h 127.0.0.1 ping >&2 || { echo "Redis at 127.0.0.1:6379 is not reachable (is redis-server installed?)" >&2; exit 1; }
