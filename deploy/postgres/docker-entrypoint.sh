#!/usr/bin/env bash
# The entrypoint of enkisys/postgres (deploy/postgres/Dockerfile), the official image's
# contract: on an empty PGDATA, initdb (SCRAM, superuser `postgres`, password from
# POSTGRES_PASSWORD_FILE when set) and the *.sh / *.sql of /docker-entrypoint-initdb.d, on a
# server listening on its Unix socket only; then exec postgres as PID 1 (SIGINT: fast shutdown).
# On every start it also runs /usr/local/bin/enkisys-databases.sh (ENKISYS_DATABASES: one
# database and role per service, passwords from secret files), so a service added later, or a
# rotated password, takes effect at the next start.
set -Eeuo pipefail

log() { echo "postgres-entrypoint: $*" >&2; }

if [[ ${1:-} != postgres ]]; then
  exec "$@"
fi
[[ $(id -u) != 0 ]] || {
  log "refusing to run as root"
  exit 1
}

fresh=0
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  fresh=1
  pwopt=()
  if [[ -n ${POSTGRES_PASSWORD_FILE:-} ]]; then
    [[ -s $POSTGRES_PASSWORD_FILE ]] || {
      log "POSTGRES_PASSWORD_FILE $POSTGRES_PASSWORD_FILE is missing or empty"
      exit 1
    }
    pwopt=(--pwfile="$POSTGRES_PASSWORD_FILE")
  fi
  log "initialising a new cluster in $PGDATA"
  initdb --username=postgres --encoding=UTF8 --locale=C.UTF-8 --auth-local=peer \
    --auth-host=scram-sha-256 "${pwopt[@]}" -D "$PGDATA" >/dev/null
  {
    echo "listen_addresses = '*'"
    echo "password_encryption = 'scram-sha-256'"
  } >>"$PGDATA/postgresql.conf"
  # Over the network a role reaches only the database of its own name (sameuser), with SCRAM;
  # the superuser only on the Unix socket, as the postgres user (peer).
  cat >"$PGDATA/pg_hba.conf" <<'HBA'
local all      postgres            peer
local all      all                 reject
host  all      postgres all        reject
host  sameuser all      all        scram-sha-256
HBA
fi

pg_ctl -D "$PGDATA" -w -t 60 -o "-c listen_addresses=''" start >/dev/null
if ((fresh)); then
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e $f ]] || continue
    case $f in
      *.sh)
        log "running $f"
        bash "$f"
        ;;
      *.sql)
        log "running $f"
        psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres -f "$f"
        ;;
      *) log "ignoring $f" ;;
    esac
  done
fi
/usr/local/bin/enkisys-databases.sh
pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
log "ready to start"
# The image carries no JIT provider (deploy/postgres/Dockerfile).
exec postgres -D "$PGDATA" -c jit=off
