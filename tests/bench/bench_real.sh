#!/usr/bin/env bash
# bench_real.sh - the .msnap size of a live, small Python process against the same
# data as text compressed with `zstd -19`: bench_format's ratio for a real snapshot.
#
# For each Python found (the pyenv versions, /usr/bin/python3), starts it running
# CODE, captures one snapshot with memsnap-capture at the default zstd level and at
# level 19, and writes the same data as the kernel prints it: /proc/PID/smaps,
# status, smaps_rollup, stat and cmdline, the cgroup's memory files, uname, the
# memory totals of /proc/meminfo and the boot id (what the snapshot holds). Prints
# the record size (header + payload) against `zstd -19` of that text. Every
# process it starts it ends by PID. Not a test: the figures depend on the machine.
#
# usage: bench_real.sh MEMSNAP_CAPTURE [PYTHON...]
#        CODE='import json, decimal; import time; time.sleep(30)' bench_real.sh ...
set -u
cap=${1:?usage: bench_real.sh MEMSNAP_CAPTURE [PYTHON...]}
shift
command -v zstd >/dev/null || { echo "bench_real: the zstd program is needed for the text baseline" >&2; exit 1; }
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

# the text of the same data, as the files print it
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

printf '%-44s %8s %10s %9s %9s %7s %7s\n' python mappings text text+z19 msnap msnap/19 ratio19
for py in "${pythons[@]}"; do
  "$py" -c "$code" &
  pid=$!
  pids+=("$pid")
  sleep "${WAIT:-1.5}"
  if ! kill -0 "$pid" 2>/dev/null; then echo "SKIP: $py exited before the capture"; continue; fi
  ok=1
  "$cap" -q -p "$pid" -o "$tmp/a.msnap" -f || ok=0
  "$cap" -q -p "$pid" -o "$tmp/b.msnap" -f --level 19 || ok=0
  text_of "$pid" "$tmp/text"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ $ok -eq 1 ] || { echo "FAIL: memsnap-capture on $py (pid $pid)"; continue; }
  rec=$(( $(stat -c %s "$tmp/a.msnap") - 64 ))   # one record: the file minus its 64-byte header
  rec19=$(( $(stat -c %s "$tmp/b.msnap") - 64 ))
  tz=$(zstd -19 -q -c "$tmp/text" | wc -c)
  printf '%-44s %8d %10d %9d %9d %7s %7s\n' "$py" "$(grep -c '^VmFlags' "$tmp/text")" \
    "$(stat -c %s "$tmp/text")" "$tz" "$rec" "$(awk "BEGIN {printf \"%.3f\", $rec / $tz}")" \
    "$(awk "BEGIN {printf \"%.3f\", $rec19 / $tz}")"
done
echo "(msnap: one record, header + payload, at the writer's default level; ratio19: the same at level 19;"
echo " the text: smaps, status, smaps_rollup, stat, cmdline, cgroup memory files, uname, meminfo, boot id)"
