#!/usr/bin/env bash
# Entrypoint of the `kafka` service (apache/kafka image): the image's own configuration step,
# then the secrets it cannot take from KAFKA_* variables, then the storage format that puts the
# admin's SCRAM credential into the cluster metadata, then the broker.
#
# Environment (from docker-compose.yml): the image's KAFKA_* settings (deploy/kafka.env),
# SCRAM_ADMIN_PASSWORD (the `admin` super user, SCRAM) and CONTROLLER_PASSWORD (the
# `controller` user on the KRaft listener, PLAIN).
set -euo pipefail

# Where the image keeps Kafka and its own scripts (overridable so that tests can run this script).
kafka_home=${KAFKA_HOME:-/opt/kafka}
image_scripts=${KAFKA_IMAGE_SCRIPTS:-/etc/kafka/docker}
config=$kafka_home/config/server.properties
admin_client=$kafka_home/config/admin-client.properties

check_password() {  # name value: refuse what would break the JAAS and kafka-configs syntax
  if [[ ! $2 =~ ^[A-Za-z0-9._~-]{16,}$ ]]; then
    echo "start.sh: $1 must be at least 16 characters of A-Z a-z 0-9 . _ ~ - (e.g. openssl rand -hex 24)" >&2
    exit 2
  fi
}

admin_password=${SCRAM_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}
controller_password=${CONTROLLER_PASSWORD:?set KAFKA_CONTROLLER_PASSWORD}
check_password KAFKA_ADMIN_PASSWORD "$admin_password"
check_password KAFKA_CONTROLLER_PASSWORD "$controller_password"
# Not for the image's renderer, nor for the broker's environment.
unset SCRAM_ADMIN_PASSWORD CONTROLLER_PASSWORD

# 1. The image's steps: defaults for what kafka.env leaves out, then server.properties from KAFKA_*.
# shellcheck source=/dev/null
. "$image_scripts/configureDefaults"
"$image_scripts/configure"
if [[ ! -s $config ]]; then
  echo "start.sh: the image's configure step did not write $config" >&2
  exit 1
fi

# 2. JAAS settings: the image drops a KAFKA_* value that contains '=', so they are written here.
# Each SASL mechanism enabled on a listener needs one. On CLIENT, the admin is also who this
# broker is when it connects to brokers; on CONTROLLER, `controller` both logs in and is accepted.
umask 077
scram="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$admin_password\";"
plain="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"controller\" password=\"$controller_password\" user_controller=\"$controller_password\";"
{
  echo
  echo "listener.name.client.scram-sha-512.sasl.jaas.config=$scram"
  echo "listener.name.client.scram-sha-256.sasl.jaas.config=$scram"
  echo "listener.name.controller.plain.sasl.jaas.config=$plain"
} >>"$config"
chmod 600 "$config"

# 3. The admin's client settings, for the health check (`--command-config`).
cat >"$admin_client" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$scram
EOF

# 4. First start only: format the storage with the admin's SCRAM credentials in the bootstrap
# metadata (KIP-900). Later starts skip it (--ignore-formatted): users then live in the metadata,
# and a new admin password must be set with kafka-configs.sh before it is changed here.
"$kafka_home/bin/kafka-storage.sh" format --ignore-formatted --cluster-id "$CLUSTER_ID" --config "$config" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=$admin_password]" \
  --add-scram "SCRAM-SHA-256=[name=admin,password=$admin_password]"

exec "$kafka_home/bin/kafka-server-start.sh" "$config"
