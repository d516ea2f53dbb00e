#!/usr/bin/env bash
# Does the PostgreSQL server's own memory hold a rebuild back? Alternating rebuilds of one ledger
# with the server's shared buffers at a chosen size and at its default (128 MB), the server
# restarted before each run, then the decoding baseline under each (benchmarks/RESULTS.md sections
# 40 and 45). SETTING names another server setting to alternate instead (e.g. max_wal_size).
#
# Each run: a CHECKPOINT, then `python -m benchmarks.rebuild_once` (one line: entries, seconds,
# rate, the process's user CPU, its peak memory), the log position every 2 s, and the server's CPU
# seconds over the run (the postmaster's reaped children plus every live server process, from
# /proc), and the checkpoints the server started during it (counted from pg_stat_bgwriter). Needs
# root or the postgres user (ALTER SYSTEM and pg_ctlcluster restart the server) and a ledger
# imported into PostgreSQL (e.g. `python -m staffing import FILE --no-follow`), configured by
# STAFFING_DATABASE_URL (a plain URL ending in the database's name) and STAFFING_DATA_DIR. The
# setting is reset to its default at the end, whatever happens. Not for CI: it restarts the
# machine's PostgreSQL.
#
# Usage: STAFFING_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/national \
#        STAFFING_DATA_DIR=... [SETTING=shared_buffers] bash benchmarks/server_memory_pairs.sh OUT_DIR [SIZE] [PAIRS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?an output directory}; size=${2:-6GB}; pairs=${3:-2}; setting=${SETTING:-shared_buffers}
[[ $setting =~ ^[a-z_]+$ ]] || { echo "SETTING must be a server setting's name (e.g. max_wal_size), not '$setting'" >&2; exit 2; }
mkdir -p "$out"
python=${PYTHON:-$PWD/.venv/bin/python}
cluster=$(ls /etc/postgresql | head -n1)
source benchmarks/pairs_common.sh

restart_with() {  # $1: the setting's value, or "default"
  if [ "$1" = default ]; then psql_ -c "ALTER SYSTEM RESET $setting"
  else psql_ -c "ALTER SYSTEM SET $setting = '$1'"; fi
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main restart
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
}
trap 'kill $(jobs -p) 2>/dev/null || true; restart_with default' EXIT  # (a failed run leaves no watcher behind)

checkpoints() { psql_ -c "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"; }

one_run() {  # $1: label, $2: value or default, $3: rebuild|decode
  local before
  restart_with "$2"
  echo "# $1 $setting=$(psql_ -c "SHOW $setting")" >> "$out/runs.log"
  before=$(checkpoints)
  timed_run "$1" . "$3"
  echo "# $1 checkpoints $(( $(checkpoints) - before ))" >> "$out/runs.log"
}

for i in $(seq 1 "$pairs"); do
  one_run "T$i" "$size" rebuild
  one_run "D$i" default rebuild
done
one_run DT "$size" decode
one_run DD default decode
