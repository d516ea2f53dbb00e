#!/usr/bin/env bash
# Several checkouts on one PostgreSQL ledger, in rounds: each round rebuilds once from every
# checkout (`benchmarks.rebuild_once`), in the order given and then reversed in the next round, so
# a machine that drifts over the hour favours none; then the decoding baseline once. Each run as in
# `code_pairs.sh` (a CHECKPOINT first, the log position every 2 s, the server's CPU), labelled by
# the checkout's letter and its round (A1, B1, C1, C2, B2, A2, ...).
#
# Usage: STAFFING_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/national \
#        STAFFING_DATA_DIR=... bash benchmarks/code_rounds.sh OUT_DIR ROUNDS CHECKOUT_A CHECKOUT_B [...]
set -euo pipefail
out=$(realpath -m "${1:?an output directory}"); rounds=${2:?how many rounds}
shift 2
[ "$#" -ge 2 ] || { echo "give two checkouts or more" >&2; exit 2; }
checkouts=(); for c in "$@"; do checkouts+=("$(realpath "$c")"); done
cd "$(dirname "$0")/.."
mkdir -p "$out"
python=${PYTHON:-$PWD/.venv/bin/python}
source benchmarks/pairs_common.sh
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT  # (a failed run leaves no watcher behind)
letters=(A B C D E F G H)
for i in "${!checkouts[@]}"; do
  echo "# ${letters[$i]}: ${checkouts[$i]} ($(git -C "${checkouts[$i]}" rev-parse --short HEAD))" >> "$out/runs.log"
done

for round in $(seq 1 "$rounds"); do
  order=("${!checkouts[@]}")
  if [ $((round % 2)) = 0 ]; then order=($(printf '%s\n' "${order[@]}" | tac)); fi
  for i in "${order[@]}"; do timed_run "${letters[$i]}$round" "${checkouts[$i]}" rebuild; done
done
timed_run X "${checkouts[-1]}" decode

positions_table > "$out/positions.txt"
cat "$out/runs.log" "$out/positions.txt"
