#!/usr/bin/env bash
# Static checks of the deployment files (run by .ci/run; needs docker-compose and promtool).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12's docker-compose 1.29 validates the file; `docker compose` v2 accepts the same file.
docker-compose -f docker-compose.yml config -q
promtool check config deploy/prometheus/prometheus.yml
node -e 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"))' grafana/dashboards/agent-memory.json

# Every variable documented in .env.example reaches the containers.
missing=$(grep -oE '^[A-Z][A-Z0-9_]*=' .env.example | tr -d '=' | while read -r var; do
  grep -qE "^  ${var}:" docker-compose.yml || echo "$var"
done)
if [ -n "$missing" ]; then
  echo "docker-compose.yml does not pass these .env.example variables: $missing" >&2
  exit 1
fi
echo "deploy files OK"
