#!/bin/sh
# Starts one service of the image: `run-service <name>` or SERVICE=<name>.
set -eu
service="${1:-${SERVICE:-}}"
case "$service" in
  gateway|framer|ontology|instructor|reward-model|auditor) ;;
  *)
    echo "run-service: name a service (gateway, framer, ontology, instructor, reward-model, auditor) as the argument or in SERVICE; got \"$service\"" >&2
    exit 64
    ;;
esac
export SWC_NODE_PROJECT="apps/$service/tsconfig.json"
exec node -r @swc-node/register "apps/$service/src/main.ts"
