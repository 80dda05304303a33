#!/usr/bin/env bash
# Users and ACLs on the docker compose Kafka, from deploy/kafka/acls.txt (the `acls` service).
#
#   acls.sh apply                                every principal in acls.txt: SCRAM user + ACLs (what compose runs)
#   acls.sh add-agency AGENCY [PROVINCE [AREA]]  one more agency principal, password from AGENCY_PASSWORD
#   acls.sh plan                                 print the grants acls.txt expands to (no broker needed)
#   acls.sh plan-agency AGENCY [PROVINCE [AREA]] print the grants one agency principal would get
#
# A source (an upstream system posting needs) gets its user and ACLs from `needs-router sources add
# NAME` instead (services/intake/domain/source_access.py defines them); intake's standing grant
# below reads every source's topic by prefix.
# A province's principal reads its queue and each of its area offices' (the `office` lines); an
# area office's principal (agency-doe-10-area3) reads its own queue only.
# apply reads each principal's password from KAFKA_<PRINCIPAL>_PASSWORD (upper case, '-' as '_':
# agency-dlpw-33 -> KAFKA_AGENCY_DLPW_33_PASSWORD) and connects as `admin` with KAFKA_ADMIN_PASSWORD.
# Every step can be repeated: an ACL that exists is left as it is, a password is set again.
# DRY_RUN=1 prints the kafka-configs.sh / kafka-acls.sh commands (passwords masked) instead.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
acls_file=${ACLS_FILE:-$here/acls.txt}
bootstrap=${KAFKA_BOOTSTRAP:-kafka:9092}
bin=${KAFKA_BIN:-/opt/kafka/bin}
admin_config=""

fail() {
  echo "acls.sh: $*" >&2
  exit 2
}

check_password() {  # name value: refuse what would break the kafka-configs.sh syntax
  [[ $2 =~ ^[A-Za-z0-9._~-]{16,}$ ]] ||
    fail "$1 must be at least 16 characters of A-Z a-z 0-9 . _ ~ - (e.g. openssl rand -hex 24)"
}

# The data lines of acls.txt, comments and blank lines removed.
data_lines() {
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}
    [[ $line =~ [^[:space:]] ]] && echo "$line"
  done <"$acls_file"
}

known_agency() {  # code: an agency with a national line in acls.txt
  local kind code province
  while read -r kind code province; do
    [[ $kind == agency && $code == "$1" && -z $province ]] && return 0
  done < <(data_lines)
  return 1
}

known_office() {  # agency province area: an `office` line of acls.txt
  local kind code province area
  while read -r kind code province area; do
    [[ $kind == office && $code == "$1" && $province == "$2" && $area == "$3" ]] && return 0
  done < <(data_lines)
  return 1
}

offices_of() {  # agency province: the areas of its `office` lines
  local kind code province area
  while read -r kind code province area; do
    [[ $kind == office && $code == "$1" && $province == "$2" ]] && echo "$area"
  done < <(data_lines)
}

principal_of() {  # agency [province [area]]
  echo "agency-$1${2:+-$2}${3:+-$3}"
}

# One level's templates for a principal, filled in (area: the office whose queue it names).
fill_templates() {  # level principal agency province area
  local kind tlevel operation resource pattern name
  while read -r kind tlevel operation resource pattern name; do
    [[ $kind == template && $tlevel == "$1" ]] || continue
    name=${name//\{agency\}/$3}
    name=${name//\{province\}/$4}
    name=${name//\{office\}/$5}
    name=${name//\{principal\}/$2}
    echo "$2 $operation $resource $pattern $name"
  done < <(data_lines)
}

# The grants of one agency principal: the national, provincial or office templates, filled in;
# a province's principal also gets the `area` template for each of its area offices.
agency_grants() {  # agency [province [area]]
  local agency=$1 province=${2:-} office=${3:-} principal area
  [[ $agency =~ ^[a-z]+$ ]] || fail "agency code '$agency' is not lower-case letters"
  [[ -z $province || $province =~ ^[0-9]{2}$ ]] || fail "province code '$province' is not two digits"
  principal=$(principal_of "$agency" "$province" "$office")
  if [[ -n $office ]]; then
    known_office "$agency" "$province" "$office" ||
      fail "$agency.$province.$office is not an area office (the 'office' lines of $acls_file)"
    fill_templates office "$principal" "$agency" "$province" "$office"
    fill_templates area "$principal" "$agency" "$province" "$office"
  elif [[ -n $province ]]; then
    fill_templates provincial "$principal" "$agency" "$province" ""
    while read -r area; do
      fill_templates area "$principal" "$agency" "$province" "$area"
    done < <(offices_of "$agency" "$province")
  else
    fill_templates national "$principal" "$agency" "" ""
  fi
}

# Every grant acls.txt stands for, one per line: principal operation resource pattern name.
all_grants() {
  local kind a b c d e
  while read -r kind a b c d e; do
    case $kind in
      grant) echo "$a $b $c $d $e" ;;
      agency)
        known_agency "$a" || fail "agency $a has no national line ('agency $a') in $acls_file"
        agency_grants "$a" "$b" "$c"
        ;;
      template | office) ;;
      *) fail "unknown line in $acls_file: $kind $a $b $c $d $e" ;;
    esac
  done < <(data_lines)
}

run() {  # a command, or with DRY_RUN=1 its words (passwords masked), shell-quoted on one line
  if [[ ${DRY_RUN:-} == 1 ]]; then
    local shown=() word
    for word in "$@"; do
      shown+=("$(sed -E 's/password=[^],]*/password=***/g' <<<"$word")")
    done
    printf '%q ' "${shown[@]}"
    echo
  else
    "$@"
  fi
}

admin_connection() {  # write the admin's client settings once, to a file only this user can read
  [[ -n $admin_config ]] && return 0
  local password=${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}
  check_password KAFKA_ADMIN_PASSWORD "$password"
  admin_config=$(umask 077 && mktemp)
  trap 'rm -f "$admin_config"' EXIT
  cat >"$admin_config" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$password";
EOF
}

create_user() {  # principal password: both SCRAM mechanisms, so either client setting works
  check_password "the password of $1" "$2"
  run "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --command-config "$admin_config" \
    --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[password=$2],SCRAM-SHA-256=[password=$2]"
}

add_acl() {  # principal operation resource pattern name
  local target
  case $3 in
    topic) target=(--topic "$5") ;;
    group) target=(--group "$5") ;;
    cluster) target=(--cluster) ;;
    *) fail "unknown resource type '$3'" ;;
  esac
  run "$bin/kafka-acls.sh" --bootstrap-server "$bootstrap" --command-config "$admin_config" \
    --add --allow-principal "User:$1" --operation "$2" --resource-pattern-type "$4" "${target[@]}"
}

password_variable() {  # principal -> the variable apply reads its password from
  local upper=${1^^}
  echo "KAFKA_${upper//-/_}_PASSWORD"
}

apply() {
  local grants principal variable
  grants=$(all_grants)
  admin_connection
  while read -r principal; do
    variable=$(password_variable "$principal")
    [[ -n ${!variable:-} ]] || fail "no password for $principal: set $variable"
    create_user "$principal" "${!variable}"
  done < <(cut -d' ' -f1 <<<"$grants" | sort -u)
  while read -r principal operation resource pattern name; do
    add_acl "$principal" "$operation" "$resource" "$pattern" "$name"
  done <<<"$grants"
  echo "acls.sh: $(wc -l <<<"$grants") grants for $(cut -d' ' -f1 <<<"$grants" | sort -u | wc -l) principals applied"
}

add_principal() {  # principal password grants: its user, then each of its grants
  create_user "$1" "$2"
  while read -r _ operation resource pattern name; do
    add_acl "$1" "$operation" "$resource" "$pattern" "$name"
  done <<<"$3"
}

add_agency() {  # agency [province [area]]
  local agency=${1:?usage: acls.sh add-agency AGENCY [PROVINCE [AREA]]} province=${2:-} office=${3:-} grants principal
  known_agency "$agency" || fail "unknown agency '$agency' (the agencies are the 'agency' lines of acls.txt)"
  grants=$(agency_grants "$agency" "$province" "$office")
  principal=$(principal_of "$agency" "$province" "$office")
  admin_connection
  if [[ -n $province ]]; then  # a province the topics step made a queue for, not a typo
    run "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --command-config "$admin_config" \
      --describe --topic "agency.$agency.$province" ||
      fail "there is no topic agency.$agency.$province: is $province a province code?"
  fi
  add_principal "$principal" "${AGENCY_PASSWORD:?set AGENCY_PASSWORD to the password of the new principal}" "$grants"
  echo "acls.sh: $principal can now read its queue; give it the password and deploy/KAFKA_SECURITY.md"
}

case ${1:-apply} in
  apply) apply ;;
  add-agency) add_agency "${@:2}" ;;
  plan) all_grants ;;
  plan-agency)
    known_agency "${2:?usage: acls.sh plan-agency AGENCY [PROVINCE [AREA]]}" || fail "unknown agency '$2'"
    agency_grants "$2" "${3:-}" "${4:-}"
    ;;
  *) fail "unknown command '$1' (apply, add-agency, plan, plan-agency)" ;;
esac
