#!/usr/bin/env bash
# Static checks of the deployment files (run by .ci/run; needs docker-compose and promtool).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12's docker-compose 1.29 validates the file; `docker compose` v2 accepts the same file.
docker-compose -f docker-compose.yml config -q
# The embeddings profile: a TEI server with bge-small-en-v1.5, reached by the openai-compatible provider.
profile=$(docker-compose -f docker-compose.yml --profile embeddings config)
grep -q 'text-embeddings-inference' <<<"$profile" && grep -q 'BAAI/bge-small-en-v1.5' <<<"$profile" \
  || { echo "docker-compose.yml: the embeddings profile lacks the TEI service with bge-small-en-v1.5" >&2; exit 1; }
grep -q 'OPENAI_BASE_URL=http://embeddings/v1' docs/providers.md \
  || { echo "docs/providers.md does not document the embeddings profile's variables" >&2; exit 1; }
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
