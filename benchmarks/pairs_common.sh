# Shared by the rebuild pair scripts (sourced, not run): psql on the configured ledger's database,
# the PostgreSQL server's CPU from /proc, and one timed `benchmarks.rebuild_once` run with the
# rebuild's log position watched. Needs `python`, `out`, STAFFING_DATABASE_URL (a plain URL ending
# in the database's name), STAFFING_DATA_DIR and, for a ledger in a schema, STAFFING_DB_SCHEMA.
# With STATEMENTS=1, each run's server statements go to statements-LABEL.txt (`server_statements`:
# needs pg_stat_statements loaded by the server) and its tables' updates, HOT ones apart, every 2 s
# to updates-LABEL.log.
database=${STAFFING_DATABASE_URL##*/}
psql_() { psql -h 127.0.0.1 -U postgres "$database" -Atq "$@"; }

server_cpu() {  # clock ticks: the postmaster's reaped children and every live server process
  local pid ticks fields
  pid=$(pgrep -o -u postgres -x postgres)  # the oldest: the postmaster
  read -r -a fields < "/proc/$pid/stat"
  ticks=$((fields[15] + fields[16]))
  for pid in $(pgrep -u postgres); do
    read -r -a fields 2>/dev/null < "/proc/$pid/stat" && ticks=$((ticks + fields[13] + fields[14]))  # (gone: skipped)
  done
  echo "$ticks"
}

timed_run() {  # $1: label, $2: the checkout to run from, $3: rebuild|decode, then rebuild_once's options
  local label=$1 checkout=$2 what=$3 watcher before after
  shift 3
  psql_ -c "CHECKPOINT"
  echo "# start $(date +%T) $label" >> "$out/runs.log"
  ( while true; do
      # (rebuild_once's scratch schema: bench_scale's prefix and its SCRATCH)
      echo "$(date +%s) $(psql_ -c 'SELECT position FROM bench_scale_rebuild_once.projection_tracking' 2>/dev/null)"
      if [ "${STATEMENTS:-0}" = 1 ]; then  # (each table's updates and those that stayed on their page, HOT)
        echo "$(date +%s) $(psql_ -c "SELECT string_agg(relname || ' ' || n_tup_upd || ' ' || n_tup_hot_upd, ' | ')
          FROM pg_stat_user_tables WHERE schemaname = 'bench_scale_rebuild_once' AND n_tup_upd > 0" 2>/dev/null)" \
          >> "$out/updates-$label.log"
      fi
      sleep 2
    done ) > "$out/positions-$label.log" 2>&1 &
  watcher=$!
  before=$(server_cpu)
  if [ "${STATEMENTS:-0}" = 1 ]; then "$python" -m benchmarks.server_statements reset > /dev/null; fi
  # (from the checkout's own directory: `python -m` puts it ahead of PYTHONPATH)
  (cd "$checkout" && PYTHONPATH=. "$python" -m benchmarks.rebuild_once "$what" --label "$label" "$@") >> "$out/runs.log"
  sleep 1
  after=$(server_cpu)
  kill "$watcher"
  if [ "${STATEMENTS:-0}" = 1 ]; then
    "$python" -m benchmarks.server_statements report --top 40 > "$out/statements-$label.txt"
  fi
  echo "# $label server CPU $(( (after - before) / $(getconf CLK_TCK) )) s" >> "$out/runs.log"
}

positions_table() {  # the seconds each run took to reach every million entries and the end of its load
  "$python" - "$out" <<'PY'
import pathlib, sys
out = pathlib.Path(sys.argv[1])
for log in sorted(out.glob("positions-*.log")):
    stamps = [line.split() for line in log.read_text().splitlines()]
    seen = [(int(s[0]), int(s[1])) for s in stamps if len(s) == 2 and s[1].isdigit()]
    if not seen:
        continue
    start, marks, step = int(stamps[0][0]), [], 1_000_000
    for at, position in seen:
        while position >= step:
            marks.append(f"{step // 1_000_000}M@{at - start}")
            step += 1_000_000
    last = max(position for _, position in seen)
    ended = next(at for at, position in seen if position == last)  # (the finish follows the load's end)
    print(log.stem.removeprefix("positions-"), " ".join(marks), f"end {last}@{ended - start}")
PY
}
