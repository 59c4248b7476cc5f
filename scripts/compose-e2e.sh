#!/usr/bin/env bash
# The compose end-to-end test: builds the images, then test/compose/docker-compose.e2e.ts runs the real
# docker-compose.yml, scaled, on rootful podman through Debian's docker-compose 1.29. Needs root on Debian 12;
# installs what it lacks. Settings (all optional): COMPOSE_E2E_PROJECT, COMPOSE_E2E_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "compose-e2e: $*"; }
started=$SECONDS

if [ "$(id -u)" != 0 ]; then
  echo "compose-e2e: needs root (rootful podman: the test reaches the containers on podman's bridge network)" >&2
  exit 1
fi

# --- packages -------------------------------------------------------------------------------------------------
need_apt=()
for cmd in podman runc docker-compose debootstrap iptables; do
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$cmd")
done
# Without it podman's CNI networks have no DNS, so services could not find each other by name.
[ -x /usr/lib/cni/dnsname ] || need_apt+=(golang-github-containernetworking-plugin-dnsname)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# --- podman, configured through CONTAINERS_CONF (the machine's /etc is left alone) -----------------------------
work=$(mktemp -d /tmp/agent-memory-compose-e2e.XXXXXX)
project=${COMPOSE_E2E_PROJECT:-agent-memory-e2e}
cache=${COMPOSE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-memory/compose-e2e}
service_pid=''
# A developer's .env must not change the run: docker-compose reads the file given here instead.
no_env="$work/none.env"
: >"$no_env"
cleanup() {
  local rc=$?
  # The test stops its stack itself; this catches a run that was interrupted before it could.
  if [ -S "$work/podman.sock" ]; then
    docker-compose -p "$project" --env-file "$no_env" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  rm -rf "$work"
  log "finished in $((SECONDS - started)) s, exit code $rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# crun refuses this machine's hybrid cgroups. Podman's default ulimits (nofile 1048576, nproc 4194304) are
# above the hard limits here, and runc fails to set them: use the hard limits (nproc at most pid_max; higher
# values were refused when tried).
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
[ "$nofile" = unlimited ] && nofile=1048576
{ [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; } && nproc=$pid_max
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$work/containers.conf"
export DOCKER_HOST="unix://$work/podman.sock"
export COMPOSE_E2E_PROJECT="$project"

# docker-compose speaks the Docker API; podman serves it on a private socket for this run: the podman path of
# docs/observability.md#with-podman, which this test is the check of.
podman system service --time=0 "$DOCKER_HOST" >"$work/podman-service.log" 2>&1 &
service_pid=$!
for _ in $(seq 50); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
[ -S "$work/podman.sock" ] || { cat "$work/podman-service.log" >&2; exit 1; }

# --- stand-in images --------------------------------------------------------------------------------------------
base=localhost/agent-memory-stand-in/bookworm-minbase:latest
node_image=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)

# service, image and whether compose builds it (or starts it only in a profile), from the resolved compose file
images=$(docker-compose --env-file "$no_env" config | awk '
  /^services:/ { in_services = 1; next }
  in_services && /^[a-z]/ { in_services = 0 }
  in_services && /^  [a-z0-9_.-]+:$/ { service = substr($1, 1, length($1) - 1) }
  in_services && $1 == "image:" { image[service] = $2 }
  in_services && $1 == "build:" { built[service] = 1 }
  in_services && $1 == "profiles:" { profiled[service] = 1 }
  END { for (s in image) print s, image[s], (s in profiled) ? "profile" : (s in built) ? "build" : "pull" }' | sort)

# The name podman stores an image under: node:20 is docker.io/library/node:20.
qualified() {
  case "$1" in
    */*) [[ ${1%%/*} == *[.:]* ]] && echo "$1" || echo "docker.io/$1" ;;
    *) echo "docker.io/library/$1" ;;
  esac
}

# Which stand-in replaces which image, and what it really is.
declare -A stand_in_file stand_in_what
stand_in_for() {
  case "$1" in
    "$node_image") stand_in_file[$1]=node stand_in_what[$1]="Debian 12 minbase + this machine's Node $(node --version) and npm" ;;
    redis/redis-stack-server:*) stand_in_file[$1]=redis stand_in_what[$1]="Debian 12's redis-server (no search module: the service uses its hnsw backend)" ;;
    prom/prometheus:*) stand_in_file[$1]=prometheus stand_in_what[$1]="Debian 12's prometheus" ;;
    *) return 1 ;;
  esac
}
stand_in_for "$node_image"
run_services=()
declare -A build_service # one service per image compose builds (api, embedder, retriever and extractor share one)
while read -r service image how; do
  if [ "$how" = profile ]; then
    log "$service ($image) is not run: it starts only with its compose profile"
  elif [ "$how" = build ]; then
    run_services+=("$service")
    build_service[$image]=${build_service[$image]:-$service}
  elif [[ $image == grafana/grafana:* ]]; then
    log "$service ($image) is not run: Debian has no grafana package; npm test checks its provisioning statically"
  elif stand_in_for "$image"; then
    run_services+=("$service")
  else
    echo "compose-e2e: no stand-in for $image (service $service): add one under test/compose/stand-ins" >&2
    exit 1
  fi
done <<<"$images"
export COMPOSE_E2E_SERVICES="${run_services[*]}"

# The root file system is cached; podman keeps the base image (re-importing it would defeat the layer cache).
if ! podman image exists "$base"; then
  rootfs_tar="$cache/bookworm-minbase.tar"
  if [ ! -s "$rootfs_tar" ]; then
    log "debootstrap --variant=minbase bookworm (cached in $cache)"
    debootstrap_started=$SECONDS
    mkdir -p "$cache"
    debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    tar -C "$work/rootfs" -cf "$rootfs_tar.part" . && mv "$rootfs_tar.part" "$rootfs_tar"
    rm -rf "$work/rootfs"
    log "root file system ready in $((SECONDS - debootstrap_started)) s"
  fi
  podman import -q "$rootfs_tar" "$base" >/dev/null
fi

node_bin=$(readlink -f "$(command -v node)")
node_headers="$(dirname "$(dirname "$node_bin")")/include/node"
[ -f "$node_headers/node.h" ] || { echo "compose-e2e: no Node headers in $node_headers (the node stand-in needs them)" >&2; exit 1; }
build_started=$SECONDS
log "SUBSTITUTED: no image registry is reachable here, so the base images are stand-ins, built locally under"
log "the real tags from a debootstrap --variant=minbase bookworm root file system:"
for image in "${!stand_in_file[@]}"; do
  name=${stand_in_file[$image]}
  tag=$(qualified "$image")
  # Never retag a real image: one that was pulled is used as it is.
  if podman image exists "$tag" && [ -z "$(podman image inspect -f '{{index .Labels "agent-memory.stand-in"}}' "$tag")" ]; then
    log "  $image: the real image, found locally"
    continue
  fi
  context="$work/context-$name"
  mkdir -p "$context"
  cp test/compose/stand-ins/* "$context/"
  if [ "$name" = node ]; then
    cp "$node_bin" "$context/node"
    cp -r "$(npm root -g)/npm" "$context/npm"
    cp -r "$node_headers" "$context/include"
    cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$context/ca-bundle.crt"
  fi
  podman build -q --build-arg BASE="$base" -f "$context/$name.Containerfile" -t "$tag" "$context" >/dev/null
  log "  $image -> ${stand_in_what[$image]}"
done
log "stand-ins ready in $((SECONDS - build_started)) s"

# --- the project's image, from the unchanged Dockerfile, the way users build it --------------------------------
build_started=$SECONDS
COMPOSE_DOCKER_CLI_BUILD=0 docker-compose -p "$project" --env-file "$no_env" build -q "${build_service[@]}"
log "project image built in $((SECONDS - build_started)) s"

npx jest -c jest.compose.config.js "$@"
