#!/usr/bin/env bash
# bench_real.sh - the .msnap size of a live, small Python process against the same
# data as text compressed with `zstd -19`: bench_format's ratio for a real snapshot.
#
# For each Python found (the pyenv versions, /usr/bin/python3), starts it running
# CODE and captures one snapshot with memsnap-capture twice: by default (codec 2:
# zstd with memsnap's built-in dictionary) and with --no-dict (codec 1: plain zstd,
# what format 1.0 readers read). The text baseline is the same data as its sources
# print it: /proc/PID/smaps, status, smaps_rollup, stat and cmdline, the cgroup's
# memory files, uname, the memory totals of /proc/meminfo and the boot id, plus one
# CSV per Python table of the snapshot (runtime, types, modules, size classes,
# arenas, totals, gc: written from `memsnap dump` by /usr/bin/python3, as a tool
# that kept them as text would). Prints, per Python, the text, the text through
# `zstd -19`, the two records (header + payload) and their ratios to the latter.
# Then one capture with --redact: its paths, command line and host name are keyed
# hashes, a fair stand-in for a machine whose paths the dictionary does not know.
# Every process it starts it ends by PID. Not a test: the figures depend on the
# machine.
#
# usage: bench_real.sh MEMSNAP_CAPTURE MEMSNAP [PYTHON...]
#        CODE='import json, decimal; import time; time.sleep(30)' bench_real.sh ...
set -u
cap=${1:?usage: bench_real.sh MEMSNAP_CAPTURE MEMSNAP [PYTHON...]}
ms=${2:?usage: bench_real.sh MEMSNAP_CAPTURE MEMSNAP [PYTHON...]}
shift 2
command -v zstd >/dev/null || { echo "bench_real: the zstd program is needed for the text baseline" >&2; exit 1; }
[ -x /usr/bin/python3 ] || { echo "bench_real: /usr/bin/python3 is needed to write the Python tables as CSV" >&2; exit 1; }
code=${CODE:-import time; time.sleep(30)}
tmp=$(mktemp -d) || exit 1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT

pythons=("$@")
if [ ${#pythons[@]} -eq 0 ]; then
  root=$(pyenv root 2>/dev/null || true)
  for r in "$root" "${PYENV_ROOT:-}" /root/.pyenv /opt/pyenv; do
    [ -n "$r" ] && [ -d "$r/versions" ] && { root=$r; break; }
  done
  for v in 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
    p="$root/versions/$v/bin/python${v%.*}"
    if [ -x "$p" ]; then pythons+=("$p"); else echo "SKIP: no pyenv CPython $v under ${root:-(no pyenv root)}"; fi
  done
  [ -x /usr/bin/python3 ] && pythons+=(/usr/bin/python3)
fi

# the kernel's text of the same data, as the files print it
text_of() { # PID OUT
  local pid=$1 out=$2 cg d files
  cg=$(sed -n 's/^[0-9]*:memory://p' "/proc/$pid/cgroup")
  if [ -n "$cg" ]; then
    d=/sys/fs/cgroup/memory$cg
    files="memory.usage_in_bytes memory.limit_in_bytes memory.max_usage_in_bytes memory.stat memory.oom_control memory.failcnt memory.memsw.usage_in_bytes"
  else
    cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
    d=/sys/fs/cgroup$cg
    files="memory.current memory.max memory.high memory.swap.current memory.swap.max memory.peak memory.stat memory.events"
  fi
  {
    cat "/proc/$pid/smaps" "/proc/$pid/status" "/proc/$pid/smaps_rollup" "/proc/$pid/stat"
    tr '\0' ' ' <"/proc/$pid/cmdline"; echo
    echo "$cg"
    for f in $files; do [ -r "$d/$f" ] && { echo "==> $f <=="; cat "$d/$f"; }; done
    uname -nrvm
    grep -E '^(MemTotal|MemAvailable|SwapTotal|SwapFree):' /proc/meminfo
    cat /proc/sys/kernel/random/boot_id
  } >"$out" 2>/dev/null
}

# the Python tables of a snapshot as CSV, one table after the other, each with
# its header line (the columns as `memsnap dump` names them)
python_csv() { # MSNAP OUT
  "$ms" dump "$1" | /usr/bin/python3 -c '
import csv, json, sys
snap = json.loads(sys.stdin.readline())
out = csv.writer(sys.stdout, lineterminator="\n")
for name in ("py_runtime", "py_types", "py_modules", "py_size_classes", "py_arenas", "py_alloc_totals", "py_gc"):
    rows = snap["sections"].get(name)
    if not rows:
        continue
    print("==> %s.csv <==" % name)
    cols = list(rows[0].keys())
    out.writerow(cols)
    for r in rows:
        out.writerow(["" if r[c] is None else r[c] for c in cols])
' >"$2"
}

ratio() { awk "BEGIN {printf \"%.3f\", $1 / $2}"; }

# Starts PYTHON running CODE in the background as the process itself (exec: not
# a subshell of this script, which the EXIT trap would otherwise make) and sets
# $pid; returns 1 if it is not a Python process after the wait.
start_python() { # PYTHON
  { exec "$1" -c "$code"; } &
  pid=$!
  pids+=("$pid")
  sleep "${WAIT:-1.5}"
  if ! kill -0 "$pid" 2>/dev/null; then echo "SKIP: $1 exited before the capture"; return 1; fi
  local comm
  comm=$(cat "/proc/$pid/comm" 2>/dev/null)
  case $comm in python*) ;; *) echo "FAIL: pid $pid runs '$comm', not $1"; return 1 ;; esac
}

# One comparison: captures PID with and without the dictionary (and any extra
# capture options), prints one line.
measure() { # LABEL PID [CAPTURE OPTIONS...]
  local label=$1 pid=$2
  shift 2
  local ok=1
  "$cap" -q -p "$pid" -o "$tmp/d.msnap" -f "$@" || ok=0
  "$cap" -q -p "$pid" -o "$tmp/n.msnap" -f --no-dict "$@" || ok=0
  text_of "$pid" "$tmp/text"
  [ $ok -eq 1 ] || { echo "FAIL: memsnap-capture on $label (pid $pid)"; return 1; }
  python_csv "$tmp/d.msnap" "$tmp/csv" || { echo "FAIL: memsnap dump / CSV of $label"; return 1; }
  cat "$tmp/csv" >>"$tmp/text"
  local recd recn tz
  recd=$(( $(stat -c %s "$tmp/d.msnap") - 64 ))   # one record: the file minus its 64-byte header
  recn=$(( $(stat -c %s "$tmp/n.msnap") - 64 ))
  tz=$(zstd -19 -q -c "$tmp/text" | wc -c)
  printf '%-44s %5d %8d %6d %9d %7d %9d %9s %9s\n' "$label" "$(grep -c '^VmFlags' "$tmp/text")" \
    "$(stat -c %s "$tmp/text")" "$(stat -c %s "$tmp/csv")" "$tz" "$recd" "$recn" "$(ratio "$recd" "$tz")" \
    "$(ratio "$recn" "$tz")"
}

printf '%-44s %5s %8s %6s %9s %7s %9s %9s %9s\n' python maps text csv text+z19 dict no-dict dict/z19 nodict/z19
for py in "${pythons[@]}"; do
  start_python "$py" || continue
  measure "$py" "$pid"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
if [ ${#pythons[@]} -gt 0 ]; then
  py=${pythons[$((${#pythons[@]} - 1))]}
  if start_python "$py"; then
    measure "$py --redact" "$pid" --redact
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
fi
echo "(dict: one record, header + payload, as memsnap-capture writes it by default (codec 2, zstd level 9"
echo " with the built-in dictionary); no-dict: the same with --no-dict (codec 1, what 1.0 readers read);"
echo " text: smaps, status, smaps_rollup, stat, cmdline, cgroup memory files, uname, meminfo, boot id, and"
echo " csv: the Python tables as CSV, all in one file through zstd -19; the issue's target: dict/z19 <= 0.5)"
