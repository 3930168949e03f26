#!/usr/bin/env bash
# `npm run serve`: starts the scoring API (scripts/serve.ts) with two process settings that libuv and glibc read once,
# when the process starts, so that scripts/serve.ts itself would set them too late. An operator's own values win.
#
# - UV_THREADPOOL_SIZE: DuckDB runs each feature query on a thread of libuv's pool (4 threads by default), and with one
#   query at a time (SERVE_FEATURE_CONNECTIONS = 1) consecutive requests landed on different threads, each with its
#   own allocator caches and colder CPU caches. As many threads as feature connections: 10-15 % less server CPU per
#   single-application request, the same rate at 64 connections (docs/benchmarks.md).
# - GLIBC_TUNABLES: DuckDB sets up and tears down a few thousand small C++ objects per execution (expression states,
#   types, operators) through malloc; glibc's per-thread cache keeps 7 freed blocks per size by default, the rest went
#   through the arena's bins and their consolidation. 1,000 per size: one application's features ~15 % less CPU.
#   Ignored where the C library is not glibc.
#
# Arguments are node's own options (e.g. `npm run serve -- --max-old-space-size=4096`), given after tsx is loaded.
set -euo pipefail
export UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-${SERVE_FEATURE_CONNECTIONS:-1}}"
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.tcache_count=1000}"
exec node --import tsx "$@" "$(dirname "$0")/serve.ts"
