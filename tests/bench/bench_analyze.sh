#!/usr/bin/env bash
# bench_analyze: how long memsnap report, diff, frag and trend take on a
# database of N snapshots (default 1,000; the issue's goal: under 1 s each).
#
# Method: a Python process (stdlib only: ~40 modules, ~300 classes, a few
# hundred thousand objects) is captured once by memsnap-capture; the snapshot
# is loaded and copied N-1 times inside the database with SQL (new ids, one
# second apart, one class growing by 1,000 objects a snapshot, RSS growing
# with it), so every table holds N real-sized snapshots. Each command runs
# --reps times on the database file; the median wall time is printed.
# Not a test: the figures depend on the machine. CTest runs it with N = 20
# (bench_analyze_smoke) only to prove it still works.
# usage: bench_analyze.sh MEMSNAP MEMSNAP_CAPTURE PYTHON3 [N [REPS]]
set -euo pipefail
ms=$1 cap=$2 py=$3 n=${4:-1000} reps=${5:-3}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] && cp "$tmp/bench.db" "$BENCH_KEEP"; rm -rf "$tmp"' EXIT

"$py" - >"$tmp/target.log" 2>&1 <<'PY' &
import json, decimal, sqlite3, ssl, email.mime.text, http.client, xml.dom.minidom, argparse, csv, time
classes = [type("C%d" % i, (), {"__init__": lambda self, i=0: setattr(self, "v", i)}) for i in range(300)]
objs = [classes[i % 300](i) for i in range(150_000)]
strs = ["x%d" % i for i in range(100_000)]
print("READY", flush=True)
time.sleep(120)
PY
pid=$!
for _ in $(seq 200); do grep -q READY "$tmp/target.log" 2>/dev/null && break; sleep 0.05; done
"$cap" -q -p "$pid" -o "$tmp/one.msnap"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
"$ms" load -q -d "$tmp/bench.db" "$tmp/one.msnap"

cols() { "$ms" sql --csv "$tmp/bench.db" "SELECT group_concat(name, ', ') FROM pragma_table_info('$1')" | tail -n 1 | tr -d '\r"'; }
sql="WITH RECURSIVE n(k) AS (SELECT 2 UNION ALL SELECT k + 1 FROM n WHERE k < $n) "
scols=$(cols snapshots)
sel=$(echo "$scols" | sed -e 's/\bid\b/n.k/' -e "s/\bmsnap_id\b/msnap_id || '-' || n.k/" \
      -e 's/\bwall_ns\b/wall_ns + (n.k - 1) * 1000000000/' -e 's/\bseq\b/n.k - 1/' \
      -e 's/\brss\b/rss + (n.k - 1) * 65536/')
stmts="$sql INSERT INTO snapshots ($scols) SELECT $sel FROM snapshots, n WHERE id = 1;"
for t in mappings mapping_extra process_status rollup cgroups cgroup_stats py_runtime py_types py_modules \
         py_size_classes py_arenas py_alloc_totals py_gc diagnostics; do
  c=$(cols $t)
  s=$(echo "$c" | sed -e 's/\bsnapshot_id\b/n.k/')
  if [ "$t" = py_types ]; then
    s=$(echo "$s" | sed -e "s/\bcount\b/count + CASE WHEN name = 'C7' THEN (n.k - 1) * 1000 ELSE 0 END/" \
                        -e "s/\ballocated_bytes\b/allocated_bytes + CASE WHEN name = 'C7' THEN (n.k - 1) * 56000 ELSE 0 END/")
  fi
  stmts="$stmts $sql INSERT INTO $t ($c) SELECT $s FROM $t, n WHERE snapshot_id = 1;"
done
t0=$(date +%s.%N)
"$ms" sql "$tmp/bench.db" "$stmts SELECT count(*) FROM snapshots" >/dev/null
t1=$(date +%s.%N)
rows=$("$ms" sql --csv "$tmp/bench.db" "SELECT (SELECT count(*) FROM snapshots) || ' snapshots, ' ||
  (SELECT count(*) FROM mappings) || ' mappings, ' || (SELECT count(*) FROM py_types) || ' type rows, ' ||
  (SELECT count(*) FROM py_arenas) || ' arena rows'" | tail -n 1 | tr -d '\r"')
echo "bench_analyze: database of $rows ($(du -h "$tmp/bench.db" | cut -f1); built in $(awk "BEGIN {printf \"%.2f\", $t1 - $t0}") s)"

last=$n mid=$((n / 2))
fails=0
bench() { # NAME ARGS...
  local name=$1; shift
  local times=()
  for _ in $(seq "$reps"); do
    local a b
    a=$(date +%s%N)
    "$ms" "$@" >/dev/null || { echo "bench_analyze: memsnap $* failed"; exit 1; }
    b=$(date +%s%N)
    times+=($(( (b - a) / 1000000 )))
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (reps + 1) / 2 ))p")
  printf '  %-36s median %5d ms  (runs: %s)%s\n' "$name" "$med" "${times[*]}" "$([ "$med" -lt 1000 ] || echo '  OVER 1 s')"
  [ "$med" -lt 1000 ] || fails=$((fails + 1))
}
bench "report (last snapshot)" report "$tmp/bench.db"
bench "report --snapshot $mid --json" report --json --snapshot "$mid" "$tmp/bench.db"
bench "diff 1 $last" diff "$tmp/bench.db" 1 "$last"
bench "diff (first vs last of the process)" diff "$tmp/bench.db"
bench "frag (last snapshot)" frag "$tmp/bench.db"
bench "trend ($n snapshots)" trend "$tmp/bench.db"
bench "trend --json" trend --json "$tmp/bench.db"
echo "bench_analyze: goal under 1 s each: $([ "$fails" -eq 0 ] && echo met || echo "missed by $fails")"
