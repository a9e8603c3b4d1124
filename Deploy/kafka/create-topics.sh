#!/usr/bin/env bash
# Creates the worker's topics from topics.tsv (idempotent: existing topics are left alone).
# Usage: create-topics.sh BOOTSTRAP [REPLICATION_FACTOR]
# KAFKA_TOPICS names the kafka-topics tool (default: the apache/kafka image's).
set -euo pipefail
bootstrap=${1:?usage: create-topics.sh BOOTSTRAP [REPLICATION_FACTOR]}
replication=${2:-1}
tool=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}
table=${TOPICS_TABLE:-$(dirname "$0")/topics.tsv}
while IFS=$'\t' read -r name partitions cleanup extra; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  args=(--bootstrap-server "$bootstrap" --create --if-not-exists --topic "$name"
        --partitions "$partitions" --replication-factor "$replication" --config "cleanup.policy=$cleanup")
  for config in $extra; do args+=(--config "$config"); done
  "$tool" "${args[@]}"
done < "$table"
"$tool" --bootstrap-server "$bootstrap" --describe >/dev/null
echo "topics ready"
