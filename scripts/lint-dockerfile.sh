#!/usr/bin/env bash
# Project rules for the Dockerfile, on top of dockerfile-utils (syntax, flags, stage names):
#   lint-dockerfile.sh [DOCKERFILE]     (default: Dockerfile; services from services/services.list)
#  1. An image pulled from a registry names a tag, never `latest` (reproducible builds).
#  2. `apt-get install` has -y and --no-install-recommends, and its RUN removes
#     /var/lib/apt/lists (small, non-interactive layers).
#  3. No ADD (COPY says what it does), no sudo, no shell-form ENTRYPOINT/CMD (a shell as PID 1
#     would not pass SIGTERM on: the services must stop cleanly).
#  4. Every service stage (FROM runtime AS <svc>) has a HEALTHCHECK, an exec-form ENTRYPOINT
#     and an EXPOSE; the runtime stage runs as a numeric non-root USER.
#  5. Every service of services/services.list has its stage, with ENV PORT and EXPOSE of its
#     listed port and an ENTRYPOINT running enkisys-<name>, and every service stage is listed;
#     the `test` stage is the last one (the classic builder builds every stage before the
#     target: building a service must not run the tests).
# Prints "file:line: message" per problem; exit 1 if any.
set -euo pipefail

file=${1:-Dockerfile}
[[ -r $file ]] || {
  echo "lint-dockerfile: cannot read $file" >&2
  exit 2
}

# Join continuation lines: "line<TAB>instruction" per instruction, comments dropped.
joined=$(awk '
  /^[[:space:]]*#/ && !cont { next }
  {
    line = $0
    if (!cont) { start = NR; buf = "" }
    if (sub(/\\[[:space:]]*$/, "", line)) { buf = buf line " "; cont = 1; next }
    buf = buf line; cont = 0
    if (buf ~ /[^[:space:]]/) print start "\t" buf
  }' "$file")

problems=0
problem() {
  echo "$file:$1: $2"
  problems=$((problems + 1))
}

stages=()
declare -A stage_line=() has_health=() has_entry=() has_expose=() stage_from=() stage_port=() stage_entry=()
current=""
runtime_user=""
apt_install='apt-get[[:space:]]+(-[a-zA-Z]+[[:space:]]+)*install'
apt_yes='apt-get[^;&|]*install[^;&|]*[[:space:]](-y|--yes|-[a-z]*y[a-z]*)([[:space:]]|$)'
while IFS=$'\t' read -r line text; do
  read -r instr rest <<<"$text"
  instr=${instr^^}
  case $instr in
    FROM)
      read -r -a words <<<"$rest"
      image=""
      for w in "${words[@]}"; do
        [[ $w == --* ]] || {
          image=$w
          break
        }
      done
      current=""
      if [[ $rest =~ [[:space:]][Aa][Ss][[:space:]]+([a-z0-9._-]+) ]]; then current=${BASH_REMATCH[1]}; fi
      if [[ -n $current ]]; then
        stages+=("$current")
        stage_line[$current]=$line
        stage_from[$current]=$image
      fi
      # Rule 1: a stage name or scratch needs no tag.
      if [[ $image != scratch && -z ${stage_line[$image]:-} ]]; then
        if [[ $image != *:* && $image != *@sha256:* ]]; then
          problem "$line" "FROM $image: name a tag"
        elif [[ $image == *:latest ]]; then
          problem "$line" "FROM $image: pin a tag other than latest"
        fi
      fi
      ;;
    RUN)
      if [[ $rest =~ $apt_install ]]; then
        [[ $rest =~ $apt_yes ]] || problem "$line" "apt-get install without -y"
        [[ $rest == *--no-install-recommends* ]] || problem "$line" "apt-get install without --no-install-recommends"
        [[ $rest == *"rm -rf /var/lib/apt/lists"* ]] || problem "$line" "apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN"
      fi
      [[ $rest =~ (^|[[:space:];&|])sudo[[:space:]] ]] && problem "$line" "sudo in RUN"
      ;;
    ADD) problem "$line" "ADD: use COPY" ;;
    HEALTHCHECK) [[ -n $current ]] && has_health[$current]=1 ;;
    EXPOSE) [[ -n $current ]] && has_expose[$current]=" $rest " ;;
    ENV)
      if [[ -n $current && $rest =~ (^|[[:space:]])PORT=([0-9]+) ]]; then stage_port[$current]=${BASH_REMATCH[2]}; fi
      ;;
    ENTRYPOINT | CMD)
      if [[ $rest != \[* ]]; then
        problem "$line" "$instr in shell form: use the exec form [\"...\"]"
      elif [[ $instr == ENTRYPOINT && -n $current ]]; then
        has_entry[$current]=1
        stage_entry[$current]=$rest
      fi
      ;;
    USER) [[ $current == runtime ]] && runtime_user=$rest ;;
  esac
done <<<"$joined"

# Rule 4.
for s in "${stages[@]}"; do
  [[ ${stage_from[$s]} == runtime ]] || continue
  [[ -n ${has_health[$s]:-} ]] || problem "${stage_line[$s]}" "service stage $s has no HEALTHCHECK"
  [[ -n ${has_entry[$s]:-} ]] || problem "${stage_line[$s]}" "service stage $s has no exec-form ENTRYPOINT"
  [[ -n ${has_expose[$s]:-} ]] || problem "${stage_line[$s]}" "service stage $s has no EXPOSE"
done
if [[ -n ${stage_line[runtime]:-} ]]; then
  [[ $runtime_user =~ ^[1-9][0-9]*(:[1-9][0-9]*)?$ ]] ||
    problem "${stage_line[runtime]}" "runtime stage: USER '$runtime_user' is not a numeric non-root user"
fi
# Rule 5.
lines=$("$(dirname "${BASH_SOURCE[0]}")/services.sh" lines) || exit 2
declare -A listed=()
while read -r svc port _; do
  listed[$svc]=1
  if [[ -z ${stage_line[$svc]:-} ]]; then
    problem 1 "service $svc (services/services.list) has no stage: FROM runtime AS $svc"
    continue
  fi
  [[ ${stage_port[$svc]:-} == "$port" ]] ||
    problem "${stage_line[$svc]}" "stage $svc: ENV PORT=${stage_port[$svc]:-} but services/services.list says $port"
  [[ ${has_expose[$svc]:-} == *" $port "* ]] ||
    problem "${stage_line[$svc]}" "stage $svc: no EXPOSE $port (services/services.list)"
  [[ ${stage_entry[$svc]:-} == *"\"/usr/local/bin/enkisys-$svc\""* ]] ||
    problem "${stage_line[$svc]}" "stage $svc: ENTRYPOINT must run /usr/local/bin/enkisys-$svc"
done <<<"$lines"
for s in "${stages[@]}"; do
  [[ ${stage_from[$s]} == runtime && -z ${listed[$s]:-} ]] &&
    problem "${stage_line[$s]}" "service stage $s is not in services/services.list"
done
if [[ -n ${stage_line[test]:-} && ${stages[-1]} != test ]]; then
  problem "${stage_line[test]}" "the test stage must be the last one"
fi

if ((problems > 0)); then
  echo "lint-dockerfile: $problems problem(s)"
  exit 1
fi
echo "lint-dockerfile: $file ok (${#stages[@]} stages)"
