#!/usr/bin/env bash
# CLI tests of memsnap report, diff, frag and trend: exit codes, stdout and
# stderr, --help from the command table, --json validity, --show-sql, a
# database and .msnap files giving the same answer, errors naming the file
# or snapshot. Synthetic files from analyze_make_sample (no live process).
# Then every golden and golden-error file through each analysis: exit 0 or 1,
# never a crash or a sanitizer report.
# usage: cli_analysis.sh MEMSNAP MAKE_SAMPLE PYTHON3 [GOLDEN_DIR...]
set -u
ms=$(realpath "$1") sample=$(realpath "$2") py=$3
shift 3
golden_dirs=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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
empty() { if [ -s "$2" ]; then fail "$1: $(basename "$2") should be empty"; head -3 "$2"; else pass=$((pass+1)); fi; }
json_ok() { # NAME FILE KEYS...
  local name=$1 f=$2; shift 2
  if "$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
missing = [k for k in sys.argv[2:] if k not in d]
sys.exit("missing keys %s" % missing if missing else 0)' "$f" "$@" 2>"$tmp/jerr"; then
    pass=$((pass+1))
  else
    fail "$name: not valid JSON with keys $*: $(cat "$tmp/jerr")"
  fi
}

"$sample" "$tmp/a.msnap" 3 0 >/dev/null || { echo "FAIL: analyze_make_sample"; exit 1; }
"$sample" "$tmp/b.msnap" 1 7 >/dev/null || { echo "FAIL: analyze_make_sample"; exit 1; }
"$ms" load -q -d "$tmp/case.db" "$tmp/a.msnap" || fail "load"

# help comes from the command table
check "help lists analyses" 0 "$ms" --help
for c in report diff frag trend; do
  expect "help lists $c" "$tmp/out" "^  $c +"
done
for c in report diff frag trend; do
  check "$c --help" 0 "$ms" $c --help
  expect "$c --help" "$tmp/out" "^usage: memsnap $c "
  expect "$c --help" "$tmp/out" "--show-sql"
  empty "$c --help" "$tmp/err"
  check "$c no input" 2 "$ms" $c
  expect "$c no input" "$tmp/err" "^memsnap $c: no FILE_OR_DB given"
  check "$c bad option" 2 "$ms" $c --frob "$tmp/a.msnap"
  expect "$c bad option" "$tmp/err" "unknown option --frob"
  check "$c missing file" 1 "$ms" $c "$tmp/nope.msnap"
  expect "$c missing file" "$tmp/err" "^memsnap $c: .*nope\.msnap: cannot open"
  echo "hello" > "$tmp/text.txt"
  check "$c not an input" 1 "$ms" $c "$tmp/text.txt"
  expect "$c not an input" "$tmp/err" "text\.txt: neither an SQLite database nor a \.msnap file"
done
check "report --snapshot needs a number" 2 "$ms" report --snapshot x "$tmp/a.msnap"
check "report --top 0" 2 "$ms" report --top 0 "$tmp/a.msnap"
check "report unknown snapshot" 1 "$ms" report --snapshot 99 "$tmp/case.db"
expect "report unknown snapshot" "$tmp/err" "case\.db: no snapshot 99"

# report: text, json, show-sql; the parts add up to RSS
check "report file" 0 "$ms" report "$tmp/a.msnap"
expect "report file" "$tmp/out" "^Snapshot 3: pid 4242"
expect "report file" "$tmp/out" "^Where the RSS goes"
expect "report file" "$tmp/out" "Python heap: pymalloc arenas"
expect "report file" "$tmp/out" "Total \(= RSS\)"
expect "report file" "$tmp/out" "app\.models\.MyRecord"
expect "report file" "$tmp/out" "^Diagnostics"
cp "$tmp/out" "$tmp/report_file.txt"
check "report db" 0 "$ms" report "$tmp/case.db"
if cmp -s "$tmp/out" "$tmp/report_file.txt"; then pass=$((pass+1)); else fail "report: database and file differ"; fi
check "report --json" 0 "$ms" report --json --snapshot 1 "$tmp/case.db"
json_ok "report --json" "$tmp/out" snapshot parts python_objects top_types cgroup diagnostics
empty "report --json" "$tmp/err"
if "$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
groups = sum(p["rss"] or 0 for p in d["parts"] if p["g"] != 99 and p["part"] == p["part"].lstrip() )
total = [p["rss"] for p in d["parts"] if p["g"] == 99][0]
sys.exit(0 if groups == total == d["snapshot"]["rss"] and d["snapshot"]["snapshot"] == 1 else "groups %d total %d rss %d" % (groups, total, d["snapshot"]["rss"]))' "$tmp/out"; then
  pass=$((pass+1)); else fail "report --json: the groups do not add up to RSS"; fi
check "report --show-sql" 0 "$ms" report --show-sql "$tmp/case.db"
expect "report --show-sql" "$tmp/out" "FROM memory_parts WHERE snapshot_id = \?1"
expect "report --show-sql" "$tmp/out" "^-- .*\(\?1 = 3"
check "report --json --show-sql" 0 "$ms" report --json --show-sql "$tmp/case.db"
json_ok "report --json --show-sql: stdout stays JSON" "$tmp/out" parts
expect "report --json --show-sql: SQL on stderr" "$tmp/err" "FROM memory_parts"
# the SQL shown runs in the stock sqlite3 shell when it is installed
if command -v sqlite3 >/dev/null; then
  sq=$(sqlite3 "$tmp/case.db" "SELECT sum(rss) FROM memory_parts WHERE snapshot_id = 3 AND counted")
  rss=$(sqlite3 "$tmp/case.db" "SELECT rss FROM snapshots WHERE id = 3")
  if [ "$sq" = "$rss" ]; then pass=$((pass+1)); else fail "memory_parts in sqlite3: $sq != $rss"; fi
else
  echo "SKIP: sqlite3 shell not installed (memory_parts in the stock shell)"
fi

# diff
check "diff two files" 0 "$ms" diff "$tmp/a.msnap" "$tmp/b.msnap"
expect "diff two files" "$tmp/out" "^Before: Snapshot 3"
expect "diff two files" "$tmp/out" "^After:  Snapshot 4"
expect "diff two files" "$tmp/out" "RSS change by part"
check "diff two files --json" 0 "$ms" diff --json "$tmp/a.msnap" "$tmp/b.msnap"
if "$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
t = [p for p in d["parts"] if p["g"] == 99][0]
groups = [p for p in d["parts"] if p["g"] != 99 and not p["part"].startswith(" ")]
ok = (t["before_rss"] == d["before"]["rss"] and t["after_rss"] == d["after"]["rss"]
      and t["rss_delta"] == d["after"]["rss"] - d["before"]["rss"]
      and sum(p["rss_delta"] for p in groups) == t["rss_delta"])
sys.exit(0 if ok else "total %s, before %d, after %d" % (t, d["before"]["rss"], d["after"]["rss"]))' "$tmp/out"; then
  pass=$((pass+1)); else fail "diff two files: the parts do not reconcile the RSS change"; fi
check "diff ids" 0 "$ms" diff --json "$tmp/case.db" 1 3
json_ok "diff ids" "$tmp/out" before after parts arenas types_grown types_shrunk modules libraries mappings
expect "diff ids: MyRecord grew" "$tmp/out" '"type":"app.models.MyRecord","count_delta":20'
check "diff first-last" 0 "$ms" diff "$tmp/case.db"
expect "diff first-last" "$tmp/out" "^Before: Snapshot 1"
check "diff one id" 2 "$ms" diff "$tmp/case.db" 1
check "diff unknown id" 1 "$ms" diff "$tmp/case.db" 1 42
expect "diff unknown id" "$tmp/err" "no snapshot 42"
check "diff single snapshot" 1 "$ms" diff "$tmp/b.msnap"
expect "diff single snapshot" "$tmp/err" "only one snapshot"
check "diff --show-sql" 0 "$ms" diff --show-sql "$tmp/case.db" 1 2
expect "diff --show-sql" "$tmp/out" "FROM py_types WHERE snapshot_id = \?2"

# frag
check "frag" 0 "$ms" frag "$tmp/case.db"
expect "frag" "$tmp/out" "^Arenas by utilisation"
expect "frag" "$tmp/out" "^Verdict"
expect "frag: pinned arena of the sample" "$tmp/out" "0x7f1000100000"
check "frag --json" 0 "$ms" frag --json "$tmp/a.msnap"
json_ok "frag --json" "$tmp/out" snapshot pymalloc histogram pinned size_classes c_heap verdict

# trend
check "trend" 0 "$ms" trend "$tmp/case.db"
expect "trend" "$tmp/out" "^Series: 3 snapshots"
expect "trend" "$tmp/out" "^RSS over time"
expect "trend: suspect" "$tmp/out" "^ +1 app\.models\.MyRecord +class"
check "trend --json" 0 "$ms" trend --json "$tmp/case.db"
json_ok "trend --json" "$tmp/out" last_snapshot series points groups types leak_suspects
check "trend one snapshot" 0 "$ms" trend "$tmp/b.msnap"
expect "trend one snapshot" "$tmp/out" "Only one snapshot"

# a full disk on stdout is a failure
if [ -w /dev/full ]; then
  check "report > /dev/full" 1 sh -c "'$ms' report '$tmp/case.db' > /dev/full"
  expect "report > /dev/full" "$tmp/err" "writing output failed"
fi

# hostile inputs: the golden files and the golden-error files
for d in "${golden_dirs[@]}"; do
  for f in "$d"/*.msnap; do
    [ -e "$f" ] || continue
    for c in report diff frag trend; do
      "$ms" $c --json "$f" >"$tmp/out" 2>"$tmp/err" </dev/null
      rc=$?
      if [ $rc -gt 1 ] || grep -qE "runtime error|AddressSanitizer|LeakSanitizer" "$tmp/err"; then
        fail "$c $(basename "$f"): exit $rc"; head -3 "$tmp/err"
      elif [ $rc -eq 0 ] && ! "$py" -m json.tool "$tmp/out" >/dev/null 2>&1; then
        fail "$c $(basename "$f"): exit 0 but stdout is not JSON"
      else
        pass=$((pass+1))
      fi
    done
  done
done

echo "cli_analysis: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
