#!/usr/bin/env bash
# CLI tests of `memsnap`: exit codes, stdout and stderr for usage errors,
# good files, bad files and truncated files.
# usage: cli_memsnap.sh MEMSNAP MEMSNAP_CAPTURE
set -u
ms=$1 cap=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
pass=0 failn=0
check() { # NAME EXPECTED_RC CMD...   (stdout -> $tmp/out, stderr -> $tmp/err)
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $name: exit $rc, expected $want"; sed 's/^/  stderr: /' "$tmp/err" | head -5; failn=$((failn+1)); return 1
  fi
  pass=$((pass+1))
}
expect() { # NAME FILE PATTERN
  if ! grep -qE -- "$3" "$2"; then
    echo "FAIL: $1: $(basename "$2") lacks /$3/"; sed 's/^/  | /' "$2" | head -5; failn=$((failn+1)); return 1
  fi
  pass=$((pass+1))
}
empty() { if [ -s "$2" ]; then echo "FAIL: $1: $(basename "$2") should be empty"; head -3 "$2"; failn=$((failn+1)); else pass=$((pass+1)); fi; }

# usage
check "no args" 2 "$ms";                  expect "no args" "$tmp/err" '^usage: memsnap'
check "--help" 0 "$ms" --help;            expect "--help" "$tmp/out" 'commands:'; empty "--help" "$tmp/err"
check "unknown cmd" 2 "$ms" frobnicate;   expect "unknown cmd" "$tmp/err" "unknown command 'frobnicate'"
check "info no file" 2 "$ms" info;        expect "info no file" "$tmp/err" 'no FILE given'
check "info bad opt" 2 "$ms" info --bogus x; expect "info bad opt" "$tmp/err" 'unknown option --bogus'
check "dump --help" 0 "$ms" dump --help;  expect "dump --help" "$tmp/out" 'JSON Lines'
check "help dump" 0 "$ms" help dump;      expect "help dump" "$tmp/out" '^usage: memsnap dump'
check "version" 0 "$ms" --version;        expect "version" "$tmp/out" '^memsnap [0-9]+\.[0-9]+\.[0-9]+ \(\.msnap format 1\.1\)'

# a real capture of a process we start (once it is sleep: right after the
# fork it is still a copy of this shell)
sleep 30 & pid=$!
for _ in $(seq 100); do [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ] && break; sleep 0.02; done
check "capture" 0 "$cap" -q -p "$pid" -o "$tmp/a.msnap" -i 0.05 -n 3
kill "$pid"; wait "$pid" 2>/dev/null; pid=
check "info good" 0 "$ms" info "$tmp/a.msnap"
expect "info good" "$tmp/out" '3 snapshots'
expect "info good" "$tmp/out" 'sections: .*mappings\([0-9]+\)'
expect "info good" "$tmp/out" '\(sleep\)'
empty "info good" "$tmp/err"
check "dump good" 0 "$ms" dump "$tmp/a.msnap"
[ "$(wc -l <"$tmp/out")" -eq 3 ] && pass=$((pass+1)) || { echo "FAIL: dump good: expected 3 lines"; failn=$((failn+1)); }
if command -v python3 >/dev/null; then
  cp "$tmp/out" "$tmp/dump.jsonl" # check() writes python's own output to $tmp/out
  check "dump is JSON" 0 python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert d["format"] == "1.1" and d["sections"]["mappings"], d.keys()
    assert d["sections"]["process"][0]["comm"] == "sleep"
    n += 1
assert n == 3, n
' "$tmp/dump.jsonl"
fi

# bad files: one line naming file and byte offset, exit 1; other files still processed
printf 'hello world, not a snapshot' >"$tmp/bad.msnap"
check "info bad" 1 "$ms" info "$tmp/bad.msnap" "$tmp/a.msnap"
expect "info bad" "$tmp/err" "^memsnap info: $tmp/bad.msnap: byte 0: not a \.msnap file \(bad magic\) \[MS_ERR_MAGIC\]$"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && pass=$((pass+1)) || { echo "FAIL: info bad: expected one stderr line"; failn=$((failn+1)); }
expect "info bad continues" "$tmp/out" '3 snapshots'
check "missing file" 1 "$ms" info "$tmp/nope.msnap"
expect "missing file" "$tmp/err" "nope\.msnap: cannot open: No such file or directory"
check "directory" 1 "$ms" dump "$tmp"
expect "directory" "$tmp/err" 'is a directory'

# truncated tail: warning, complete snapshots, exit 0
size=$(stat -c %s "$tmp/a.msnap")
head -c $((size - 7)) "$tmp/a.msnap" >"$tmp/cut.msnap"
check "truncated" 0 "$ms" info "$tmp/cut.msnap"
expect "truncated" "$tmp/err" '^memsnap info: warning: .*cut\.msnap: byte [0-9]+: snapshot #2 is incomplete.*\(the 2 complete snapshots before it are intact\)'
expect "truncated" "$tmp/out" '2 snapshots'

# a damaged payload: checksum error with offset; --no-verify gets past the CRC
cp "$tmp/a.msnap" "$tmp/flip.msnap"
printf '\xff' | dd of="$tmp/flip.msnap" bs=1 seek=200 conv=notrunc 2>/dev/null
check "checksum" 1 "$ms" info "$tmp/flip.msnap"
expect "checksum" "$tmp/err" 'byte [0-9]+: snapshot #0: payload checksum mismatch .*\[MS_ERR_CHECKSUM\]'

# write errors on stdout are failures
"$ms" dump "$tmp/a.msnap" >/dev/full 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && pass=$((pass+1)) || { echo "FAIL: dump to /dev/full exited $rc"; failn=$((failn+1)); }
expect "stdout full" "$tmp/err" 'writing output failed'

echo "$pass passed, $failn failed"
[ $failn -eq 0 ]
