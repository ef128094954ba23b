# shellcheck shell=bash
# The stage-name rule of the platform (the same as enkisys::core::valid_stage_name in
# libs/core/include/enkisys/core/stage.hpp; cli_tests checks that both agree):
#   ^[a-z][a-z0-9]{1,15}$ and not health, metrics or admin.
# Source this file, then: valid_stage_name NAME   (status 0 when NAME follows the rule).
# The letters are spelled out so that no locale's collation can widen the ranges.

valid_stage_name() {
  local name=${1-}
  local re='^[abcdefghijklmnopqrstuvwxyz][abcdefghijklmnopqrstuvwxyz0123456789]{1,15}$'
  [[ $name =~ $re ]] || return 1
  case $name in
    health | metrics | admin) return 1 ;;
  esac
  return 0
}
