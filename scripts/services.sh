#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis servers the integration tests use are up on
# loopback, starting them the way this machine's image does if they are not.
set -u
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for _ in $(seq 1 30); do
  pg_up && redis_up && break
  sleep 1
done
status=0
if pg_up; then echo "services: PostgreSQL up on 127.0.0.1:5432"; else echo "services: PostgreSQL is NOT reachable on 127.0.0.1:5432"; status=1; fi
if redis_up; then echo "services: Redis up on 127.0.0.1:6379"; else echo "services: Redis is NOT reachable on 127.0.0.1:6379"; status=1; fi
exit $status
