#!/usr/bin/env bash
# CLI tests of `memsnap load`, `memsnap sql` and `memsnap schema`: exit
# codes, stdout and stderr; a corrupt file among good ones; read-only,
# locked and full databases left unchanged; the stock sqlite3 shell reading
# the database; the mapping categories of a real python3 process.
# usage: cli_analyze.sh MEMSNAP MEMSNAP_CAPTURE MAKE_SAMPLE
set -u
ms=$(realpath "$1") cap=$(realpath "$2") sample=$(realpath "$3")
tmp=$(mktemp -d)
pid= lockpid= mnt=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$lockpid" ] && kill "$lockpid" 2>/dev/null
  [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 failn=0
fail() { echo "FAIL: $*"; failn=$((failn+1)); }
check() { # NAME EXPECTED_RC CMD...   (stdout -> $tmp/out, stderr -> $tmp/err)
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$name: exit $rc, expected $want"; sed 's/^/  stderr: /' "$tmp/err" | head -5; return 1
  fi
  pass=$((pass+1))
}
expect() { # NAME FILE PATTERN
  if ! grep -qE -- "$3" "$2"; then
    fail "$1: $(basename "$2") lacks /$3/"; sed 's/^/  | /' "$2" | head -8; return 1
  fi
  pass=$((pass+1))
}
same() { # NAME FILE EXPECTED-CONTENT
  if [ "$(cat "$2")" != "$3" ]; then
    fail "$1: $(basename "$2") differs"; diff <(printf '%s\n' "$3") "$2" | head -10; return 1
  fi
  pass=$((pass+1))
}
empty() { if [ -s "$2" ]; then fail "$1: $(basename "$2") should be empty"; head -3 "$2"; else pass=$((pass+1)); fi; }
unchanged() { # NAME FILE COPY
  if cmp -s "$2" "$3"; then pass=$((pass+1)); else fail "$1: the database changed"; fi
  if [ -e "$2-journal" ]; then fail "$1: a journal was left behind"; fi
}
q() { "$ms" sql --csv "$1" "$2" </dev/null | tail -n +2 | tr -d '\r'; } # one value

# ------------------------------------------------------------------ usage
check "help lists commands" 0 "$ms" --help
expect "help lists commands" "$tmp/out" '^  load +load snapshots into an SQLite database'
expect "help lists commands" "$tmp/out" '^  sql '
expect "help lists commands" "$tmp/out" '^  schema '
check "load --help" 0 "$ms" load --help
expect "load --help" "$tmp/out" 'default: memsnap\.db'
empty "load --help" "$tmp/err"
check "load no file" 2 "$ms" load
expect "load no file" "$tmp/err" '^memsnap load: no FILE given'
check "load bad option" 2 "$ms" load --frob x.msnap
expect "load bad option" "$tmp/err" 'unknown option --frob'
check "load -d without value" 2 "$ms" load -d
check "load bad wait" 2 "$ms" load --wait soon x.msnap
check "sql no args" 2 "$ms" sql
expect "sql no args" "$tmp/err" 'no DB or FILE given'
check "schema extra arg" 2 "$ms" schema tables
check "help sql" 0 "$ms" help sql
expect "help sql" "$tmp/out" 'sqlite3 -box'

# ----------------------------------------------------------------- schema
check "schema" 0 "$ms" schema
expect "schema" "$tmp/out" '^#### mappings$'
expect "schema" "$tmp/out" '^\| rss \| INTEGER \| bytes \| mappings\.rss_kib \* 1024 \| Rss'
expect "schema" "$tmp/out" '^\| python_heap \| no \|'
check "schema --sql" 0 "$ms" schema --sql
expect "schema --sql" "$tmp/out" '^CREATE TABLE IF NOT EXISTS mappings \($'
expect "schema --sql" "$tmp/out" '^CREATE VIEW IF NOT EXISTS snapshot_summary AS$'

# ------------------------------------------------------------------- load
"$sample" "$tmp/s1.msnap" 3 0 && "$sample" "$tmp/s2.msnap" 2 10 || { echo "FAIL: make_sample"; exit 1; }
db=$tmp/case.db
check "load" 0 "$ms" load -d "$db" "$tmp/s1.msnap" "$tmp/s2.msnap"
same "load" "$tmp/out" "$db: 2 files loaded, 0 failed: 5 snapshots added (225 rows), 0 already present"
empty "load" "$tmp/err"
check "reload" 0 "$ms" load -d "$db" "$tmp/s2.msnap" "$tmp/s1.msnap"
same "reload" "$tmp/out" "$db: 2 files loaded, 0 failed: 0 snapshots added (0 rows), 5 already present"
same "reload counts" <(q "$db" "SELECT count(*) FROM snapshots") 5
check "load -q" 0 "$ms" load -q -d "$db" "$tmp/s1.msnap"
empty "load -q" "$tmp/out"
(cd "$tmp" && "$ms" load -q s1.msnap </dev/null) && [ -f "$tmp/memsnap.db" ] && pass=$((pass+1)) || fail "default database memsnap.db"

# a corrupt file among good ones: named with its byte offset, nothing of it kept
cp "$tmp/s1.msnap" "$tmp/bad.msnap"
size=$(stat -c %s "$tmp/bad.msnap")
printf '\xa5' | dd of="$tmp/bad.msnap" bs=1 seek=$((size - 60)) conv=notrunc 2>/dev/null
"$sample" "$tmp/s3.msnap" 1 30
check "corrupt among good" 1 "$ms" load -d "$tmp/c.db" "$tmp/s2.msnap" "$tmp/bad.msnap" "$tmp/s3.msnap"
expect "corrupt among good" "$tmp/err" "^memsnap load: $tmp/bad\.msnap: byte [0-9]+: snapshot #2: .*\[MS_ERR_[A-Z]+\]: nothing from this file was loaded$"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && pass=$((pass+1)) || fail "corrupt among good: one stderr line"
expect "corrupt among good" "$tmp/out" '2 files loaded, 1 failed: 3 snapshots added'
same "corrupt among good: good ones" <(q "$tmp/c.db" "SELECT count(*) FROM snapshots") 3
same "corrupt among good: nothing of bad" <(q "$tmp/c.db" "SELECT count(*) FROM snapshots WHERE source_file LIKE '%bad.msnap'") 0

# a truncated tail: warning, the complete snapshots, exit 0
head -c $(( $(stat -c %s "$tmp/s1.msnap") - 5 )) "$tmp/s1.msnap" >"$tmp/cut.msnap"
check "truncated" 0 "$ms" load -d "$tmp/t.db" "$tmp/cut.msnap"
expect "truncated" "$tmp/err" '^memsnap load: warning: .*cut\.msnap: byte [0-9]+: .*\(the 2 complete snapshots before it are loaded\)$'
expect "truncated" "$tmp/out" '2 snapshots added'
printf 'not a snapshot at all' >"$tmp/text.msnap"
check "not msnap" 1 "$ms" load -d "$tmp/t.db" "$tmp/text.msnap"
expect "not msnap" "$tmp/err" "^memsnap load: $tmp/text\.msnap: byte 0: not a \.msnap file \(bad magic\) \[MS_ERR_MAGIC\]: nothing from this file was loaded$"
check "missing file" 1 "$ms" load -d "$tmp/t.db" "$tmp/nope.msnap"
expect "missing file" "$tmp/err" 'nope\.msnap: cannot open: No such file or directory'
check "not a database" 1 "$ms" load -d "$tmp/text.msnap" "$tmp/s1.msnap"
expect "not a database" "$tmp/err" 'not usable|not a database'

# -------------------------------------------------------------------- sql
check "sql table" 0 "$ms" sql "$db" "SELECT id, pid, comm, rss FROM snapshots WHERE id <= 2"
same "sql table" "$tmp/out" "id   pid  comm          rss
--  ----  -------  --------
 1  4242  python3  40960000
 2  4242  python3  40961024"
check "sql csv" 0 "$ms" sql --csv "$db" "SELECT area, message FROM diagnostics WHERE snapshot_id = 1 AND status = 1"
same "sql csv" <(tr -d '\r' <"$tmp/out") 'area,message
cgroup,"a message, with ""quotes"""'
[ "$(grep -c $'\r$' "$tmp/out")" -eq 2 ] && pass=$((pass+1)) || fail "sql csv: lines must end with CRLF"
check "sql json" 0 "$ms" sql --json "$db" "SELECT id, hostname, python_version, swap_total, NULL AS n FROM snapshots WHERE id = 1"
same "sql json" "$tmp/out" '[
{"id":1,"hostname":"db-7.example.org","python_version":"3.12.1","swap_total":2147479552,"n":null}
]'
if command -v python3 >/dev/null; then
  "$ms" sql --json "$db" "SELECT * FROM mappings" </dev/null >"$tmp/m.json"
  check "sql json parses" 0 python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 50, len(rows)
bad = [r for r in rows if isinstance(r["path"], dict)]
assert bad and bad[0]["path"] == {"hex": "2f646174612ffffe2d626c6f622e62696e"}, bad[:1]
' "$tmp/m.json"
fi
check "sql error caret" 1 "$ms" sql "$db" "SELECT pid, rsss FROM snapshots"
same "sql error caret" "$tmp/err" "memsnap sql: no such column: rsss
  SELECT pid, rsss FROM snapshots
              ^"
empty "sql error caret" "$tmp/out"
check "sql statements" 0 "$ms" sql --csv "$db" "CREATE TEMP VIEW big AS SELECT * FROM mappings WHERE rss > 1000000; SELECT count(*) AS n FROM big;"
same "sql statements" <(tr -d '\r' <"$tmp/out") "n
50"
check "sql on msnap files" 0 "$ms" sql --csv "$tmp/s1.msnap" "$tmp/s2.msnap" "SELECT count(*) AS n, sum(category = 'python_heap') AS heap FROM mappings"
same "sql on msnap files" <(tr -d '\r' <"$tmp/out") "n,heap
50,5"
"$ms" sql "$db" >"$tmp/out" 2>"$tmp/err" <<<"SELECT 7 AS seven"
same "sql query on stdin" "$tmp/out" "seven
-----
    7"
check "sql empty stdin" 2 "$ms" sql "$db"
expect "sql empty stdin" "$tmp/err" 'no QUERY given'
check "sql db and files" 2 "$ms" sql "$db" "$tmp/s1.msnap" "SELECT 1"
check "sql missing" 1 "$ms" sql "$tmp/none.db" "SELECT 1"
expect "sql missing" "$tmp/err" 'none\.db: cannot open'
check "sql neither" 1 "$ms" sql "$tmp/text.msnap" "SELECT 1"
expect "sql neither" "$tmp/err" 'neither an SQLite database nor a \.msnap file'
check "sql corrupt msnap" 1 "$ms" sql "$tmp/bad.msnap" "$tmp/s2.msnap" "SELECT count(*) AS n FROM snapshots"
expect "sql corrupt msnap" "$tmp/out" '^2$'
if command -v script >/dev/null; then # a terminal on stdin: how to get a prompt
  script -qec "'$ms' sql '$db'" /dev/null >"$tmp/out" 2>&1
  expect "sql on a terminal" "$tmp/out" "sqlite3 -box $db"
fi

# the worked queries of README.md "Querying with SQL", on the sample
check "readme: top types" 0 "$ms" sql "$db" "SELECT rank, name, count, bytes, percent FROM top_types WHERE snapshot_id = 1 AND rank <= 10"
expect "readme: top types" "$tmp/out" '^   1  MyRecord   3000  216000    51\.92$'
check "readme: grew" 0 "$ms" sql "$db" "
SELECT b.name, b.count - coalesce(a.count, 0) AS more_objects,
       b.allocated_bytes - coalesce(a.allocated_bytes, 0) AS more_bytes
  FROM py_types b LEFT JOIN py_types a ON a.name = b.name AND a.snapshot_id = 1
 WHERE b.snapshot_id = 3 AND more_bytes > 0
 ORDER BY more_bytes DESC, b.name"
expect "readme: grew" "$tmp/out" '^MyRecord +20 +1440$'
check "readme: arenas" 0 "$ms" sql "$db" "
SELECT a.snapshot_id, printf('%#x', a.address) AS arena, a.pools_used, a.pools_total,
       round(100.0 * a.live_bytes / r.arena_size, 1) AS used_pct
  FROM py_arenas a JOIN py_runtime r USING (snapshot_id)
 WHERE a.live_bytes < 0.25 * r.arena_size AND a.snapshot_id = 1"
expect "readme: arenas" "$tmp/out" '^          1  0x7f1000100000          10           64       9\.5$'

# ------------------------------------------- read-only, locked, full databases
cp "$db" "$tmp/before.db"
if [ "$(id -u)" -ne 0 ]; then
  chmod 0444 "$db"
  check "read-only" 1 "$ms" load -d "$db" "$tmp/s3.msnap"
  expect "read-only" "$tmp/err" 'database is read-only'
  check "read-only: sql still reads" 0 "$ms" sql "$db" "SELECT count(*) FROM snapshots"
  chmod 0644 "$db"
  unchanged "read-only" "$db" "$tmp/before.db"
elif command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  # root ignores file modes: the same as another user
  rodir=$tmp/ro && mkdir "$rodir" && cp "$db" "$rodir/case.db" && cp "$tmp/s3.msnap" "$rodir/"
  chown -R nobody "$rodir" && chmod 0444 "$rodir/case.db" && chmod 0755 "$rodir" && chmod 0755 "$tmp"
  asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
  check "read-only (as nobody)" 1 asnobody "$ms" load -d "$rodir/case.db" "$rodir/s3.msnap"
  expect "read-only (as nobody)" "$tmp/err" "^memsnap load: $rodir/case\.db: database is read-only \(file permissions or a read-only file system\): nothing was loaded; load into a writable copy or another file \(-d\)$"
  check "read-only: sql still reads" 0 asnobody "$ms" sql "$rodir/case.db" "SELECT count(*) FROM snapshots"
  unchanged "read-only (as nobody)" "$rodir/case.db" "$tmp/before.db"
else
  echo "SKIP: read-only database: running as root without setpriv/nobody (root ignores file modes)"
fi

if command -v sqlite3 >/dev/null; then
  # another program holds the write lock for 3 s
  (echo "BEGIN IMMEDIATE;"; sleep 3; echo "ROLLBACK;") | sqlite3 "$db" & lockpid=$!
  sleep 0.5
  start=$(date +%s%N)
  check "locked" 1 "$ms" load --wait 0.3 -d "$db" "$tmp/s3.msnap"
  expect "locked" "$tmp/err" "^memsnap load: $db: database is locked by another program \(waited 0\.3 s\): nothing was loaded; try again when it is done$"
  [ $(( ($(date +%s%N) - start) / 1000000 )) -ge 250 ] && pass=$((pass+1)) || fail "locked: did not wait"
  wait "$lockpid"; lockpid=
  unchanged "locked" "$db" "$tmp/before.db"
else
  echo "SKIP: locked database: no sqlite3 shell to hold a lock"
fi

if [ "$(id -u)" -eq 0 ] && mnt=$(mktemp -d) && mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
  "$sample" "$tmp/big.msnap" 300 100
  "$ms" load -q -d "$mnt/full.db" "$tmp/s3.msnap" </dev/null
  # leave 64 KiB free: the big file cannot fit
  avail=$(df -k --output=avail "$mnt" | tail -1)
  dd if=/dev/zero of="$mnt/filler" bs=1k count=$((avail - 64)) 2>/dev/null
  cp "$mnt/full.db" "$tmp/full-before.db"
  check "full" 1 "$ms" load -d "$mnt/full.db" "$tmp/big.msnap"
  expect "full" "$tmp/err" "^memsnap load: $mnt/full\.db: disk full \(the database or its journal could not grow\): nothing from $tmp/big\.msnap was loaded; free space and load again$"
  unchanged "full" "$mnt/full.db" "$tmp/full-before.db"
  umount "$mnt"; rmdir "$mnt"; mnt=
else
  [ -n "$mnt" ] && rmdir "$mnt" 2>/dev/null; mnt=
  echo "SKIP: full database: needs root to mount a small tmpfs (analyze_load covers it with max_page_count)"
fi

# ------------------------------------------------- the stock sqlite3 shell
if command -v sqlite3 >/dev/null; then
  check "sqlite3 shell reads" 0 sqlite3 -readonly "$db" "PRAGMA integrity_check; SELECT count(*) FROM mappings; SELECT category, sum(rss) FROM category_totals WHERE snapshot_id = 1 GROUP BY 1 ORDER BY 1 LIMIT 1;"
  same "sqlite3 shell reads" "$tmp/out" "ok
50
c_heap|1351680"
else
  echo "SKIP: the sqlite3 shell is not installed (apt-get install sqlite3)"
fi

# --------------------------------- categories of a real python3 process
py=$(command -v python3 2>/dev/null) && py=$("$py" -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$py" ] && [ -x "$py" ]; then
  "$py" -c '
import threading, time, json, math
threads = [threading.Thread(target=time.sleep, args=(60,), daemon=True) for _ in range(2)]
for t in threads: t.start()
data = [dict(i=i) for i in range(100000)]
print("ready", flush=True)
time.sleep(60)' >"$tmp/py.out" & pid=$!
  for _ in $(seq 50); do grep -q ready "$tmp/py.out" 2>/dev/null && break; sleep 0.1; done
  check "capture python3" 0 "$cap" -q -p "$pid" -o "$tmp/py.msnap" -i 0.1 -n 2
  kill "$pid"; wait "$pid" 2>/dev/null; pid=
  check "load python3" 0 "$ms" load -d "$tmp/py.db" "$tmp/py.msnap"
  check "python3 categories" 0 "$ms" sql --csv "$tmp/py.db" "SELECT DISTINCT category FROM mappings ORDER BY 1"
  for c in interpreter shared_library stack kernel c_heap anonymous; do
    expect "python3 has $c" "$tmp/out" "^$c"
  done
  same "python3 interpreter is the python binary" <(q "$tmp/py.db" "SELECT count(*) > 0 FROM mappings WHERE category = 'interpreter' AND path = (SELECT exe FROM snapshots WHERE id = mappings.snapshot_id)") 1
  same "python3 thread stacks" <(q "$tmp/py.db" "SELECT count(*) >= 3 FROM mappings WHERE snapshot_id = 1 AND category = 'stack' AND perms = 'rw-p'") 1
  same "python3 [stack]" <(q "$tmp/py.db" "SELECT category FROM mappings WHERE snapshot_id = 1 AND path = '[stack]'") stack
  same "python3 extension modules named" <(q "$tmp/py.db" "SELECT count(*) = count(module) FROM mappings WHERE category = 'python_extension'") 1
else
  echo "SKIP: python3 categories: no python3"
fi

echo "cli_analyze: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
