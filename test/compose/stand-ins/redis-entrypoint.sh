#!/bin/sh
# What redis-stack-server's entrypoint runs, minus the modules: its config sets protected-mode no, daemonize no.
# shellcheck disable=SC2086 # REDIS_ARGS is a list of arguments
exec redis-server --dir "${REDIS_DATA_DIR:-/data}" --protected-mode no --daemonize no ${REDIS_ARGS}
