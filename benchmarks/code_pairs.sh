#!/usr/bin/env bash
# Old code against new on one PostgreSQL ledger: alternating rebuilds (`benchmarks.rebuild_once`)
# run from two checkouts, then the decoding baseline once, each after a CHECKPOINT, with the
# rebuild's log position every 2 s and the server's CPU over each run (benchmarks/RESULTS.md
# sections 39 and 41). Each checkout runs its own code from its own directory; make the old one
# with `git worktree add DIR COMMIT`. At the end, `positions.txt` gives the seconds each run took
# to reach every million entries and the end of its load (the rest of its total is the finish).
#
# Usage: STAFFING_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/national \
#        STAFFING_DATA_DIR=... bash benchmarks/code_pairs.sh OUT_DIR OLD_CHECKOUT NEW_CHECKOUT [PAIRS] [FIRST]
# FIRST: which runs first in each pair, new (the default) or old.
set -euo pipefail
out=$(realpath -m "${1:?an output directory}"); old=$(realpath "${2:?the old checkout}")
new=$(realpath "${3:?the new checkout}"); pairs=${4:-2}; first=${5:-new}
cd "$(dirname "$0")/.."
mkdir -p "$out"
python=${PYTHON:-$PWD/.venv/bin/python}
source benchmarks/pairs_common.sh
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT  # (a failed run leaves no watcher behind)
echo "# old: $old ($(git -C "$old" rev-parse --short HEAD)), new: $new ($(git -C "$new" rev-parse --short HEAD))" \
  >> "$out/runs.log"

for i in $(seq 1 "$pairs"); do
  if [ "$first" = new ]; then timed_run "N$i" "$new" rebuild; timed_run "O$i" "$old" rebuild
  else timed_run "O$i" "$old" rebuild; timed_run "N$i" "$new" rebuild; fi
done
timed_run D "$new" decode

positions_table > "$out/positions.txt"
cat "$out/runs.log" "$out/positions.txt"
