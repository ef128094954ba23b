#!/usr/bin/env bash
# One database and one role per data-keeping service of Enkisys, each owning only its own:
#   ENKISYS_DATABASES="tools auth rag agent router"   (services/services.list, data db)
#   ENKISYS_DB_SECRETS=/run/secrets            (<dir>/db_<name>_password holds the role's password)
# For each NAME: role NAME (LOGIN, SCRAM password from the secret file, set again at every run so
# a rotated secret takes effect), database NAME owned by it, CONNECT revoked from PUBLIC; the
# public schema belongs to the role. Idempotent; runs on the server's Unix socket as postgres.
# Runs at every start of enkisys/postgres, and once (docker-entrypoint-initdb.d) in postgres:15.
set -Eeuo pipefail

secrets=${ENKISYS_DB_SECRETS:-/run/secrets}
psql_su() { psql -v ON_ERROR_STOP=1 -qtA -U postgres "$@"; }

for name in ${ENKISYS_DATABASES:-}; do
  [[ $name =~ ^[a-z][a-z0-9_]{0,62}$ ]] || {
    echo "enkisys-databases: bad database name '$name'" >&2
    exit 1
  }
  file=$secrets/db_${name}_password
  [[ -s $file ]] || {
    echo "enkisys-databases: $file is missing or empty (deploy/gen-secrets.sh)" >&2
    exit 1
  }
  # The password travels in the environment of psql (\getenv), never on a command line.
  ENKISYS_DB_PASSWORD=$(tr -d '\r\n' <"$file") psql_su -d postgres -v name="$name" <<'SQL'
\getenv pw ENKISYS_DB_PASSWORD
SET password_encryption = 'scram-sha-256';
SELECT format('CREATE ROLE %I LOGIN', :'name')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'name', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'name', :'name') \gexec
SQL
  psql_su -d "$name" -v name="$name" <<'SQL'
SELECT format('ALTER SCHEMA public OWNER TO %I', :'name') \gexec
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
  echo "enkisys-databases: $name ready" >&2
done
