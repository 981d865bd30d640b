#!/usr/bin/env bash
# Installs what the Lambdas' tests need: Debian's PostgreSQL server (initdb, pg_ctl,
# pg_basebackup, postgres) and the postgres OS user that runs it (PostgreSQL refuses root).
# Idempotent: does nothing when both are there. Run as root (it is a no-op for a user who
# already has PostgreSQL). `make test` and .ci/run call it.
set -euo pipefail

have_pg() {
  if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then return 0; fi
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if ! have_pg; then
  echo "install-postgres: installing Debian's postgresql"
  # No "main" cluster: the tests make and start their own servers on free ports.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    as_root mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
have_pg || { echo "install-postgres: initdb still missing after installing postgresql" >&2; exit 1; }

if ! id postgres >/dev/null 2>&1; then
  echo "install-postgres: creating the postgres OS user"
  as_root useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
echo "install-postgres: $("$bindir/postgres" --version) in $bindir; OS user postgres (uid $(id -u postgres))"
