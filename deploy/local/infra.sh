#!/usr/bin/env bash
# Local infrastructure without Docker: Kafka (KRaft), FerretDB (MongoDB wire protocol),
# Redis and the Qdrant REST stand-in, installed from package registries only.
#
#   bash deploy/local/infra.sh up            install what is missing, start, wait until ready
#   bash deploy/local/infra.sh down [--purge] stop what this script started (--purge: delete data)
#   bash deploy/local/infra.sh status        one line per server
#   bash deploy/local/infra.sh test-qdrant   run the Qdrant stand-in's pytest suite in its venv
#   bash deploy/local/infra.sh install [server...]     install or rebuild the servers' tools only
#   bash deploy/local/infra.sh kafka-cluster-id        the Kafka cluster id `up` formats with (made or repaired)
#   bash deploy/local/infra.sh kafka-cluster-ids N     N fresh ids from `kafka-storage random-uuid`, one JVM
#
# Data, logs and pid files live in ${STUDIO_DATA_DIR:-<repo>/.data}/local. Ports come from
# KAFKA_PORT, KAFKA_CONTROLLER_PORT, MONGO_PORT, REDIS_PORT and QDRANT_PORT.
# The Qdrant stand-in requires an API key, made once (qdrant/api-key in the data folder, kept by
# `down`, removed by `down --purge`) and exported as QDRANT_API_KEY in env.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
mkdir -p "${STUDIO_DATA_DIR:-$ROOT/.data}/local"
# Absolute and physical (symbolic links resolved), so pid checks (which compare this path with a
# server's command line and with /proc/<pid>/cwd, always physical) match however the folder was named.
DATA="$(cd "${STUDIO_DATA_DIR:-$ROOT/.data}/local" && pwd -P)"
HOST=127.0.0.1

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${MONGO_PORT:-27017}"
REDIS_PORT="${REDIS_PORT:-6379}"
QDRANT_PORT="${QDRANT_PORT:-6333}"
START_TIMEOUT="${INFRA_START_TIMEOUT:-120}" # seconds each server may take to answer
STOP_GRACE="${INFRA_STOP_GRACE:-20}"        # seconds between SIGTERM and SIGKILL

CACHE="$DATA/cache"
RUN="$DATA/run"
LOGS="$DATA/logs"
KAFKA_LIB="$CACHE/kafka-lib"
FERRETDB_BIN="$CACHE/ferretdb/ferretdb-local"
QDRANT_VENV="$CACHE/qdrant-venv"
QDRANT_KEY_FILE="$DATA/qdrant/api-key"
SERVERS=(kafka mongo redis qdrant)

log() { printf '[infra] %s\n' "$*"; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }
# die, with the last lines of a server's log, so a failure explains itself where only the output is kept.
die_with_log() {
  local name="$1"
  shift
  printf '[infra] ERROR: %s\n' "$*" >&2
  if [ -s "$LOGS/$name.log" ]; then
    printf '[infra] last lines of %s:\n' "$LOGS/$name.log" >&2
    tail -n 20 "$LOGS/$name.log" | sed 's/^/[infra]   | /' >&2
  fi
  exit 1
}

url_of() {
  case "$1" in
    kafka) echo "$HOST:$KAFKA_PORT" ;;
    mongo) echo "mongodb://$HOST:$MONGO_PORT" ;;
    redis) echo "redis://$HOST:$REDIS_PORT" ;;
    qdrant) echo "http://$HOST:$QDRANT_PORT" ;;
  esac
}
port_of() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;; mongo) echo "$MONGO_PORT" ;;
    redis) echo "$REDIS_PORT" ;; qdrant) echo "$QDRANT_PORT" ;;
  esac
}
# What identifies a pid we started: its program in the command line, and this data folder (in
# its command line; Redis rewrites its process title, so there its working folder), so a stale
# pid file (after a reboot, a kill -9) never names a reused pid, nor the same server started from
# another data folder.
program_of() {
  case "$1" in
    kafka) echo "kafka.Kafka" ;; mongo) echo "ferretdb-local" ;;
    redis) echo "redis-server" ;; qdrant) echo "qdrant_api" ;;
  esac
}
started_here() {
  local name="$1" pid="$2" cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$(program_of "$name")"* ]] || return 1
  case "$name" in
    kafka) [[ "$cmdline" == *"$DATA/kafka/server.properties"* ]] ;;
    mongo) [[ "$cmdline" == *"$DATA/ferretdb/data"* ]] ;;
    # Redis moves into its --dir while it reads its arguments and later rewrites its process
    # title: at any moment one of the two names the data folder.
    redis) [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$DATA/redis" ] || [[ "$cmdline" == *"$DATA/redis"* ]] ;;
    qdrant) [[ "$cmdline" == *"$DATA/qdrant/storage"* ]] ;;
  esac
}

# A process that exists and is not a zombie.
alive() {
  local state
  [[ "$1" =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null || return 1
  state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ "$state" != Z ]
}

hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }
port_open() { timeout 1 bash -c "</dev/tcp/$HOST/$1" 2>/dev/null; }

pid_of() {
  local f="$RUN/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  started_here "$1" "$pid" || return 1
  echo "$pid"
}

# ---------------------------------------------------------------- readiness probes --------

ready_kafka() {
  port_open "$KAFKA_PORT" || return 1
  [ -d "$KAFKA_LIB" ] || return 1
  # A real metadata request through the Admin client: lists topics, or fails.
  timeout 30 java -Xmx128m -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
    -cp "$KAFKA_LIB/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$HOST:$KAFKA_PORT" --list >/dev/null 2>&1
}
ready_mongo() {
  port_open "$MONGO_PORT" || return 1
  [ -x "$FERRETDB_BIN" ] || return 1
  "$FERRETDB_BIN" -probe "mongodb://$HOST:$MONGO_PORT/" >/dev/null 2>&1
}
ready_redis() {
  port_open "$REDIS_PORT" || return 1
  [ "$(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
}
ready_qdrant() {
  port_open "$QDRANT_PORT" || return 1
  local auth=()
  [ -s "$QDRANT_KEY_FILE" ] && auth=(-H "api-key: $(head -n 1 "$QDRANT_KEY_FILE")")
  timeout 3 curl -fsS "${auth[@]}" "http://$HOST:$QDRANT_PORT/collections" 2>/dev/null | grep -q '"status":"ok"'
}
# Whether the stand-in answers without its key (one started before keys existed does).
qdrant_open() {
  [ "$(timeout 3 curl -s -o /dev/null -w '%{http_code}' "http://$HOST:$QDRANT_PORT/collections" 2>/dev/null)" = 200 ]
}

# The stand-in's API key: 32 random bytes in hex, made once, readable by this user only.
ensure_qdrant_key() {
  [ -s "$QDRANT_KEY_FILE" ] && return 0
  mkdir -p "$(dirname "$QDRANT_KEY_FILE")"
  (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$QDRANT_KEY_FILE.tmp" && echo >>"$QDRANT_KEY_FILE.tmp") &&
    mv "$QDRANT_KEY_FILE.tmp" "$QDRANT_KEY_FILE"
  [ "$(head -n 1 "$QDRANT_KEY_FILE" | tr -d '\n' | wc -c)" = 64 ] || die "qdrant: could not make an API key in $QDRANT_KEY_FILE"
}

# ---------------------------------------------------------------- installation (cached) ---

install_kafka() {
  command -v java >/dev/null || die "kafka: java (17+) is not installed"
  local stamp="$CACHE/kafka-lib.sha256" want
  want="$(hash_files "$HERE/kafka/pom.xml")"
  if [ -d "$KAFKA_LIB" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  command -v mvn >/dev/null || die "kafka: mvn is not installed (needed once to fetch the Kafka jars)"
  log "kafka: resolving jars from Maven Central (log: $LOGS/kafka-install.log)"
  rm -rf "$KAFKA_LIB.tmp"
  local mvn_args=(-q -B -f "$HERE/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB.tmp")
  if ! mvn "${mvn_args[@]}" >"$LOGS/kafka-install.log" 2>&1; then
    # An interrupted or failed download leaves *.lastUpdated markers in ~/.m2, and Maven then
    # refuses to try that artifact again for a day; -U makes it retry now.
    log "kafka: maven failed, retrying with -U (forces the failed downloads again)"
    rm -rf "$KAFKA_LIB.tmp"
    mvn -U "${mvn_args[@]}" >>"$LOGS/kafka-install.log" 2>&1 ||
      die "kafka: maven could not fetch the jars, see $LOGS/kafka-install.log"
  fi
  rm -rf "$KAFKA_LIB" && mv "$KAFKA_LIB.tmp" "$KAFKA_LIB" && echo "$want" >"$stamp"
}

# The FerretDB module is built from a copy with the patches of ferretdb/patches applied (a
# `replace` in a generated go.mod; the Go module cache itself is read-only).
install_mongo() {
  local src="$HERE/ferretdb" stamp="$CACHE/ferretdb/ferretdb-local.sha256" want
  want="$(hash_files "$src/go.mod" "$src/go.sum" "$src/main.go" "$src"/patches/*.patch)"
  if [ -x "$FERRETDB_BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  command -v go >/dev/null || die "mongo: go is not installed (needed to build the FerretDB server)"
  if ! command -v patch >/dev/null; then
    [ "$(id -u)" = 0 ] || die "mongo: patch is missing; install it with: sudo apt-get install -y patch"
    log "mongo: installing patch from Debian"
    { apt-get install -y --no-install-recommends patch || { apt-get update && apt-get install -y --no-install-recommends patch; }; } \
      >"$LOGS/mongo-install.log" 2>&1 </dev/null || die "mongo: apt-get install patch failed, see $LOGS/mongo-install.log"
  fi
  log "mongo: building FerretDB (log: $LOGS/mongo-install.log)"
  mkdir -p "$CACHE/ferretdb"
  if ! build_ferretdb "$src" "$CACHE/ferretdb/build" >"$LOGS/mongo-install.log" 2>&1; then
    die "mongo: building FerretDB failed, see $LOGS/mongo-install.log"
  fi
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN" && echo "$want" >"$stamp"
}

build_ferretdb() {
  local src="$1" build="$2" module p
  rm -rf "$build" && mkdir -p "$build" || return 1
  module="$(cd "$src" && GOFLAGS=-mod=readonly go mod download -json github.com/FerretDB/FerretDB |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || return 1
  [ -d "$module" ] || { echo "go mod download gave no module folder"; return 1; }
  cp -R "$module" "$build/FerretDB" && chmod -R u+w "$build/FerretDB" || return 1
  for p in "$src"/patches/*.patch; do
    echo "applying $p"
    patch -p1 --forward --batch -d "$build/FerretDB" <"$p" || return 1
  done
  cp "$src/go.mod" "$build/go.mod" && cp "$src/go.sum" "$build/go.sum" &&
    printf '\nreplace github.com/FerretDB/FerretDB => %s\n' "$build/FerretDB" >>"$build/go.mod" || return 1
  (cd "$src" && GOFLAGS=-mod=readonly go build -modfile="$build/go.mod" -trimpath -o "$FERRETDB_BIN.tmp" .) || return 1
  rm -rf "$build"
}

install_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "redis: redis-server is missing; install it with: sudo apt-get install -y redis-server"
  log "redis: installing redis-server from Debian (log: $LOGS/redis-install.log)"
  {
    apt-get install -y --no-install-recommends redis-server ||
      { apt-get update && apt-get install -y --no-install-recommends redis-server; }
  } >"$LOGS/redis-install.log" 2>&1 </dev/null || die "redis: apt-get failed, see $LOGS/redis-install.log"
  # The Debian package may start the system service; this script runs its own instance.
  if pgrep -x redis-server >/dev/null && command -v service >/dev/null; then
    service redis-server stop >>"$LOGS/redis-install.log" 2>&1 || true
  fi
}

install_qdrant() {
  local req="$HERE/qdrant-api/requirements.txt" stamp="$QDRANT_VENV/.requirements.sha256" want
  want="$(hash_files "$req")"
  if [ -x "$QDRANT_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  log "qdrant: creating venv and installing requirements (log: $LOGS/qdrant-install.log)"
  rm -rf "$QDRANT_VENV"
  if ! { python3 -m venv "$QDRANT_VENV" &&
    "$QDRANT_VENV/bin/pip" install --disable-pip-version-check -q -r "$req"; } >"$LOGS/qdrant-install.log" 2>&1; then
    die "qdrant: venv/pip install failed, see $LOGS/qdrant-install.log (Debian needs python3-venv)"
  fi
  echo "$want" >"$stamp"
}

# ---------------------------------------------------------------- start ------------------

# Runs "$@" detached in its own session, output to the server's log, pid to its pid file.
spawn() {
  local name="$1"
  shift
  # setsid (not a process-group leader here) execs in place, so $! is the server's pid.
  # fd 9 is the lock of this script: the server must not keep holding it.
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/$name.pid"
  url_of "$name" >"$RUN/$name.url"
}

kafka_tool() {
  java -Xmx128m -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$KAFKA_LIB/*" "$@"
}

# A Kafka cluster id: a UUID in unpadded base64url (22 characters) that does not start with "-"
# (the storage tool would read such an id as an option).
valid_cluster_id() { [[ "$1" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]]; }

# A new cluster id, made the way Kafka makes them: `kafka-storage random-uuid` (Uuid.randomUuid,
# which draws again until the id does not start with "-").
new_cluster_id() {
  local id
  id="$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$LOGS/kafka.log" | tail -n 1)" || true
  valid_cluster_id "$id" || die "kafka: 'kafka-storage random-uuid' gave no valid cluster id ('$id'), see $LOGS/kafka.log"
  echo "$id"
}

# Sets KAFKA_CLUSTER_ID to the id to format the storage with, and repairs what a fresh or
# interrupted machine may have left behind:
# - formatted storage is the truth: its meta.properties' id is used (and written to the id file),
#   since formatting with any other id fails for ever;
# - storage whose meta.properties has no valid id (an interrupted format, a crash) cannot start:
#   it is moved aside to data.unusable-<time> and formatted again;
# - an id file that is missing, empty or invalid (e.g. an id starting with "-", which earlier
#   versions of this script could write) is replaced by a new id.
ensure_kafka_cluster_id() {
  local dir="$DATA/kafka" id
  local file="$dir/cluster-id" meta="$dir/data/meta.properties"
  mkdir -p "$dir/data"
  KAFKA_CLUSTER_ID=""
  if [ -e "$meta" ]; then
    id="$(sed -n 's/^cluster\.id=//p' "$meta" | tail -n 1 | tr -d '[:space:]')"
    if valid_cluster_id "$id"; then
      KAFKA_CLUSTER_ID="$id"
    else
      local aside
      aside="$dir/data.unusable-$(date +%Y%m%dT%H%M%S)"
      log "kafka: $meta holds no valid cluster id ('$id'): moving the storage to $aside and formatting anew" >&2
      mv "$dir/data" "$aside" && mkdir -p "$dir/data"
    fi
  fi
  if [ -z "$KAFKA_CLUSTER_ID" ]; then
    id="$(cat "$file" 2>/dev/null | tr -d '[:space:]')" || true
    if valid_cluster_id "$id"; then
      KAFKA_CLUSTER_ID="$id"
    else
      [ -z "$id" ] || log "kafka: replacing the invalid cluster id '$id' in $file" >&2
      KAFKA_CLUSTER_ID="$(new_cluster_id)" || exit 1
    fi
  fi
  if [ "$(cat "$file" 2>/dev/null)" != "$KAFKA_CLUSTER_ID" ]; then
    echo "$KAFKA_CLUSTER_ID" >"$file.tmp" && mv "$file.tmp" "$file"
  fi
}

start_kafka() {
  local dir="$DATA/kafka" props="$DATA/kafka/server.properties"
  mkdir -p "$dir/data"
  cat >"$props" <<EOF
# Generated by deploy/local/infra.sh on each start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
EOF
  ensure_kafka_cluster_id
  # --cluster-id=ID (one argument), so no id can be read as an option.
  if ! java -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$KAFKA_LIB/*" kafka.tools.StorageTool \
    format --cluster-id="$KAFKA_CLUSTER_ID" -c "$props" --ignore-formatted >>"$LOGS/kafka.log" 2>&1; then
    die "kafka: formatting the storage failed, see $LOGS/kafka.log"
  fi
  spawn kafka java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.showDateTime=true -cp "$KAFKA_LIB/*" kafka.Kafka "$props"
}

start_mongo() {
  mkdir -p "$DATA/ferretdb"
  spawn mongo "$FERRETDB_BIN" -listen "$HOST:$MONGO_PORT" -data-dir "$DATA/ferretdb/data"
}

start_redis() {
  mkdir -p "$DATA/redis"
  # Append-only file in our own data folder, so data survives `down` (not `down --purge`).
  spawn redis redis-server --bind "$HOST" --port "$REDIS_PORT" --dir "$DATA/redis" \
    --save '' --appendonly yes --appendfsync everysec --daemonize no --protected-mode yes \
    --logfile ''
}

start_qdrant() {
  mkdir -p "$DATA/qdrant"
  # The key's file, not the key, on the command line (ps shows arguments).
  PYTHONPATH="$HERE/qdrant-api" spawn qdrant "$QDRANT_VENV/bin/python" -m qdrant_api \
    --host "$HOST" --port "$QDRANT_PORT" --storage "$DATA/qdrant/storage" --api-key-file "$QDRANT_KEY_FILE"
}

wait_ready() {
  local name="$1" deadline=$((SECONDS + START_TIMEOUT)) pid
  pid="$(cat "$RUN/$name.pid" 2>/dev/null)" || pid=""
  until "ready_$name"; do
    # The pid this script spawned (or found running) is alive, whatever its command line says at
    # this moment: between fork and exec it is still this script, and servers rewrite their titles.
    if ! alive "$pid"; then
      die_with_log "$name" "$name: the server exited before answering on $(url_of "$name"); see $LOGS/$name.log"
    fi
    [ "$SECONDS" -lt "$deadline" ] ||
      die_with_log "$name" "$name: no answer on $(url_of "$name") after ${START_TIMEOUT}s (pid $pid); see $LOGS/$name.log"
    sleep 0.5
  done
}

# Brings one server up; runs in a background job per server.
up_one() {
  local name="$1" port pid
  port="$(port_of "$name")"
  "install_$name"
  [ "$name" = qdrant ] && ensure_qdrant_key
  if "ready_$name"; then
    log "$name: already running at $(url_of "$name")"
    if [ "$name" = qdrant ] && qdrant_open; then
      log "qdrant: WARNING: the running stand-in answers without its API key (started before it had one); restart it (infra.sh down, then up) to require QDRANT_API_KEY"
    fi
    if [ "$name" = mongo ] && pid="$(pid_of mongo)" && [ ! "/proc/$pid/exe" -ef "$FERRETDB_BIN" ]; then
      log "mongo: WARNING: the running server (pid $pid) is an older build than $FERRETDB_BIN; restart it (infra.sh down, then up) to use the new one"
    fi
    return 0
  fi
  if pid="$(pid_of "$name")"; then
    if [ "$(cat "$RUN/$name.url" 2>/dev/null)" != "$(url_of "$name")" ]; then
      die "$name: already running (pid $pid) at $(cat "$RUN/$name.url" 2>/dev/null || echo '?'), not at $(url_of "$name"); run 'infra.sh down' first to change its port"
    fi
    log "$name: started earlier (pid $pid), waiting for it to answer"
  else
    port_open "$port" &&
      die "$name: port $port is taken by a process that does not answer as $name; free it or set the port variable"
    [ "$name" = kafka ] && port_open "$KAFKA_CONTROLLER_PORT" &&
      die "kafka: controller port $KAFKA_CONTROLLER_PORT is taken by another process; free it or set KAFKA_CONTROLLER_PORT"
    : >"$LOGS/$name.log"
    "start_$name"
    log "$name: starting (pid $(cat "$RUN/$name.pid"), log: $LOGS/$name.log)"
  fi
  wait_ready "$name"
  log "$name: ready at $(url_of "$name")"
}

write_env() {
  # It holds the Qdrant key: readable by this user only.
  (umask 077 && : >"$DATA/env.sh.tmp")
  cat >"$DATA/env.sh.tmp" <<EOF
# Written by deploy/local/infra.sh up: source it to reach the local servers.
export KAFKA_BROKERS=$(url_of kafka)
export MONGO_URL=$(url_of mongo)
export REDIS_URL=$(url_of redis)
export QDRANT_URL=$(url_of qdrant)
export QDRANT_API_KEY=$(head -n 1 "$QDRANT_KEY_FILE")
EOF
  mv "$DATA/env.sh.tmp" "$DATA/env.sh"
}

cmd_up() {
  local started=$SECONDS name failed=() pids=()
  for name in "${SERVERS[@]}"; do
    up_one "$name" &
    pids+=($!)
  done
  local i
  for i in "${!SERVERS[@]}"; do
    wait "${pids[$i]}" || failed+=("${SERVERS[$i]}")
  done
  [ ${#failed[@]} -eq 0 ] || die "not started: ${failed[*]} (logs in $LOGS)"
  write_env
  log "all servers ready in $((SECONDS - started))s:"
  for name in "${SERVERS[@]}"; do printf '  %-7s %s\n' "$name" "$(url_of "$name")"; done
  log "environment: source $DATA/env.sh"
}

# ---------------------------------------------------------------- stop / status ----------

stop_one() {
  local name="$1" pid deadline
  if ! pid="$(pid_of "$name")"; then
    rm -f "$RUN/$name.pid"
    if port_open "$(port_of "$name")"; then
      log "$name: not started by this script (port $(port_of "$name") is in use by another process), left alone"
    else
      log "$name: not running"
    fi
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_GRACE))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.3; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after ${STOP_GRACE}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid" "$RUN/$name.url"
  log "$name: stopped (pid $pid)"
}

cmd_down() {
  local purge=0 name pids=()
  [ "${1:-}" = "--purge" ] && purge=1
  for name in "${SERVERS[@]}"; do
    stop_one "$name" &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  if [ "$purge" = 1 ]; then
    rm -rf "$DATA/kafka" "$DATA/ferretdb" "$DATA/redis" "$DATA/qdrant" "$LOGS" "$DATA/env.sh"
    log "purged data and logs in $DATA (installed tools in $CACHE are kept)"
  else
    log "data kept in $DATA (use 'down --purge' to delete it)"
  fi
}

cmd_status() {
  local name state pid all=0
  for name in "${SERVERS[@]}"; do
    pid="$(pid_of "$name" || true)"
    if "ready_$name"; then state=up; else state=down; all=1; fi
    printf '%-7s %-5s %-28s pid %s\n' "$name" "$state" "$(url_of "$name")" "${pid:--}"
  done
  return $all
}

mkdir -p "$CACHE" "$RUN" "$LOGS"
case "${1:-}" in
  up)
    # One `up` at a time (others wait), so concurrent callers do not start servers twice.
    exec 9>"$RUN/infra.lock"
    flock 9
    cmd_up
    ;;
  down)
    exec 9>"$RUN/infra.lock"
    flock 9
    cmd_down "${2:-}"
    ;;
  status) cmd_status ;;
  install)
    # Installs (or rebuilds, when its inputs changed) the named servers' tools; all by default.
    shift
    names=("$@")
    [ ${#names[@]} -gt 0 ] || names=("${SERVERS[@]}")
    exec 9>"$RUN/infra.lock"
    flock 9
    for name in "${names[@]}"; do
      [[ " ${SERVERS[*]} " == *" $name "* ]] || die "install: unknown server '$name' (one of: ${SERVERS[*]})"
      "install_$name"
    done
    ;;
  kafka-cluster-id)
    exec 9>"$RUN/infra.lock"
    flock 9
    install_kafka
    ensure_kafka_cluster_id
    echo "$KAFKA_CLUSTER_ID"
    ;;
  kafka-cluster-ids)
    count="${2:-1}"
    [[ "$count" =~ ^[1-9][0-9]{0,6}$ ]] || die "kafka-cluster-ids: COUNT must be a number from 1 to 9999999"
    (exec 9>"$RUN/infra.lock" && flock 9 && install_kafka)
    exec java -Xmx128m -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -cp "$KAFKA_LIB/*" "$HERE/kafka/ClusterIds.java" "$count"
    ;;
  test-qdrant)
    shift
    install_qdrant
    cd "$HERE/qdrant-api" && exec "$QDRANT_VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: $0 up | down [--purge] | status | install [server...] | test-qdrant [pytest args] | kafka-cluster-id | kafka-cluster-ids COUNT" >&2
    exit 2
    ;;
esac
