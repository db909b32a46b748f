#!/usr/bin/env bash
# A private PostgreSQL cluster for the test suite and benchmarks, from Debian's packages
# (installed when missing): in its own directory, on a loopback port, run as the `postgres`
# user, trusting local connections (it listens on 127.0.0.1 only and lives as long as the run).
#   scripts/postgres.sh start DIR PORT    initdb when DIR is new, start, wait until it answers
#   scripts/postgres.sh stop DIR          stop it fast
# The server's URL is then postgres://postgres@127.0.0.1:PORT
source "$(dirname "$0")/lib.sh"

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
[ -n "$(bin_dir)" ] && [ -x "$(bin_dir)/initdb" ] || apt_ensure postgresql
BIN="$(bin_dir)"
[ -x "$BIN/initdb" ] || die "PostgreSQL's initdb not found after installing postgresql"

# initdb refuses to run as root: the cluster belongs to the postgres user then
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir="${2:?DIR}"; port="${3:?PORT}"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale >/dev/null
    fi
    # fsync off: a test cluster is thrown away, and durability is SQLite's and the crash
    # test's concern, not the speed of a throwaway disk; PG_DURABLE=1 keeps PostgreSQL's
    # durable defaults (the benchmarks)
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_DURABLE:-0}" = 1 ] && durability=""
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 $durability" >/dev/null \
      || { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }
    say "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
    ;;
  stop)
    dir="${2:?DIR}"
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *) die "usage: scripts/postgres.sh start DIR PORT | stop DIR" ;;
esac
