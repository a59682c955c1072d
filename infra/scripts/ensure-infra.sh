#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ (with its management plugin) answer on
# 127.0.0.1. Starts them if they are installed but down; on Debian, as root,
# installs them from Debian's packages if they are missing. Elsewhere it says
# what to install (or to use `make up` with Docker).
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
AMQP_PORT=${AMQP_PORT:-5672}
RABBIT_API_PORT=${RABBIT_API_PORT:-15672}

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() { # host port what seconds
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    port_open "$1" "$2" && return 0
    sleep 0.1
  done
  die "$3 did not come up on $1:$2 within $4s"
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() {
  say "installing $* from Debian's packages"
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if port_open "$PGHOST" "$PGPORT"; then say "PostgreSQL is up on $PGHOST:$PGPORT"; return; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    can_apt || die "PostgreSQL is not running on $PGHOST:$PGPORT and not installed: install PostgreSQL 15+ (trust auth on 127.0.0.1), or run \`make up\` with Docker"
    apt_install postgresql
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port "$PGHOST" "$PGPORT" PostgreSQL 30
}

ensure_rabbitmq() {
  if ! port_open 127.0.0.1 "$AMQP_PORT"; then
    if ! command -v rabbitmq-server >/dev/null; then
      can_apt || die "RabbitMQ is not running on 127.0.0.1:$AMQP_PORT and not installed: install RabbitMQ 3.10+, or run \`make up\` with Docker"
      apt_install rabbitmq-server
    fi
    say "starting RabbitMQ"
    rabbitmq-server -detached || true
    wait_port 127.0.0.1 "$AMQP_PORT" RabbitMQ 90
  else
    say "RabbitMQ is up on 127.0.0.1:$AMQP_PORT"
  fi
  # management: vhosts for tests, dead-letter listing; consistent hash: audit partitions
  if command -v rabbitmq-plugins >/dev/null; then
    local enabled wanted=(rabbitmq_management rabbitmq_consistent_hash_exchange) missing=()
    enabled=$(rabbitmq-plugins list -e -m 2>/dev/null || true)
    for plugin in "${wanted[@]}"; do
      grep -qx "$plugin" <<<"$enabled" || missing+=("$plugin")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      say "enabling RabbitMQ plugins: ${missing[*]}"
      rabbitmq-plugins enable --quiet "${missing[@]}" >/dev/null
    fi
  elif ! port_open 127.0.0.1 "$RABBIT_API_PORT"; then
    die "RabbitMQ's management API is not on port $RABBIT_API_PORT: enable the rabbitmq_management and rabbitmq_consistent_hash_exchange plugins"
  fi
  wait_port 127.0.0.1 "$RABBIT_API_PORT" "RabbitMQ management API" 60
}

# The deployment tests check the compose file with Debian's docker-compose and
# render the Kubernetes overlays with kubectl's kustomize (no engine or cluster).
ensure_deploy_tools() {
  if ! command -v docker-compose >/dev/null; then
    can_apt || die "docker-compose is missing (the deployment tests run \`docker-compose config\`): install Debian's docker-compose"
    apt_install docker-compose
  fi
  command -v kubectl >/dev/null || die "kubectl is missing (the deployment tests render infra/k8s with \`kubectl kustomize\`): install kubectl 1.27+"
}

# The console's tests drive Debian's Chromium with Playwright (its own browser
# downloads are not used) and load axe-core from npm (tests/browser).
ensure_browser() {
  if ! command -v chromium >/dev/null; then
    can_apt || die "chromium is missing (the console's tests run in it): install Debian's chromium"
    say "installing Chromium from Debian's packages (the console's browser tests)"
    apt_install chromium fonts-dejavu-core
  fi
  command -v npm >/dev/null || die "npm is missing (the console's tests load axe-core from npm): install Node.js 20+"
}

ensure_postgres
ensure_rabbitmq
if [ "${1:-}" = "--with-deploy-tools" ]; then ensure_deploy_tools; ensure_browser; fi
