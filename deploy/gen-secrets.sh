#!/usr/bin/env bash
# Creates the secrets of the given stages and of the edge, keeping any that already exist:
#   deploy/gen-secrets.sh [STAGE...]          (default: prod staging dev1 dev2)
# Per stage, in deploy/<stage>/secrets/:
#   admin_password     password of the stage's first auth administrator
#                      (AUTH_BOOTSTRAP_ADMIN_EMAIL in deploy/<stage>/stage.env)
#   introspect_token   bearer secret that guards auth's /api/auth/introspect
#   agent_service_secret  the router's credential at the agent (X-Service-Secret)
#   telegram_webhook_secret, whatsapp_verify_token  what the router expects from the platforms
#   telegram_bot_token, whatsapp_app_secret, whatsapp_access_token, slack_signing_secret,
#   slack_bot_token    the platforms' credentials: created EMPTY (the channel stays off) for the
#                      operator to fill in (README, "Connecting a real Telegram bot")
#   db_<service>_password   PostgreSQL password of each service with a database
#                      (services/services.list: data db), read by the stage's PostgreSQL and by
#                      the service (DATABASE_PASSWORD_FILE) when stage.env says DATABASE=postgres
#   db_postgres_password    the PostgreSQL superuser's (used only on the server's own socket)
# The JWT signing keys are not here: each stage's auth creates and rotates its own in its
# volume (enkisys-<stage>-auth-data), so no two stages ever share one.
# For the edge, in deploy/edge/secrets/:
#   gateway_admin_token   bearer token of the gateway's admin API (127.0.0.1:9901 of the host)
# Folders are mode 0700 (only their owner on the host reads them); files 0644, because they
# are bind-mounted into containers that run as uid 10001.
set -euo pipefail

DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/lib/stage.sh
. "$DEPLOY/lib/stage.sh"
# shellcheck source=scripts/services.sh
. "$DEPLOY/../scripts/services.sh"
mapfile -t db_services < <(services_names data=db)
# ENKISYS_DEPLOY_DIR: the deploy folder to fill (<dir>/<stage>/stage.env must exist), this one
# by default; tests give a throwaway project's.
OUT=${ENKISYS_DEPLOY_DIR:-$DEPLOY}
stages=("$@")
((${#stages[@]} > 0)) || stages=(prod staging dev1 dev2)

# secret_file PATH: writes 32 random bytes, base64url without padding (43 chars), unless PATH exists.
secret_file() {
  local path=$1 dir
  dir=$(dirname "$path")
  mkdir -p "$dir"
  chmod 0700 "$dir"
  [[ -s $path ]] && return 0
  (
    umask 077
    head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$path.tmp"
  )
  chmod 0644 "$path.tmp"
  mv "$path.tmp" "$path"
  echo "gen-secrets: created ${path#"$OUT"/}"
}

# placeholder_file PATH: an empty file (a channel credential not given yet: the channel is off),
# unless PATH exists.
placeholder_file() {
  local path=$1
  [[ -e $path ]] && return 0
  : >"$path"
  chmod 0644 "$path"
}

for s in "${stages[@]}"; do
  { valid_stage_name "$s" && [[ -f $OUT/$s/stage.env ]]; } || {
    echo "gen-secrets: unknown stage '$s' (no deploy/$s/stage.env)" >&2
    exit 2
  }
  secret_file "$OUT/$s/secrets/admin_password"
  secret_file "$OUT/$s/secrets/introspect_token"
  secret_file "$OUT/$s/secrets/agent_service_secret"
  secret_file "$OUT/$s/secrets/telegram_webhook_secret"
  secret_file "$OUT/$s/secrets/whatsapp_verify_token"
  for f in telegram_bot_token whatsapp_app_secret whatsapp_access_token slack_signing_secret slack_bot_token; do
    placeholder_file "$OUT/$s/secrets/$f"
  done
  secret_file "$OUT/$s/secrets/db_postgres_password"
  for svc in "${db_services[@]}"; do
    secret_file "$OUT/$s/secrets/db_${svc//-/_}_password"
  done
done
secret_file "$OUT/edge/secrets/gateway_admin_token"
