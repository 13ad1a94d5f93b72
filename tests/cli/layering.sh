#!/usr/bin/env bash
# Checks the dependency rules of README.md "Architecture" on the built
# artefacts and the sources:
#   format/  libc and libzstd only;  capture/  format/, never SQLite;
#   analyze/ format/ and SQLite.
# usage: layering.sh SOURCE_DIR LIBMSFORMAT.a LIBMSCAPTURE.a MEMSNAP_CAPTURE_BIN
set -u
src=$1 fmt=$2 capl=$3 capbin=$4
fail=0
bad() { echo "FAIL: $*"; fail=1; }

libc=$(ldd /bin/true | awk '/libc\.so/ {print $3}')
[ -n "$libc" ] || libc=/lib/x86_64-linux-gnu/libc.so.6
defined_libc=$(nm -D --defined-only "$libc" | awk '{print $3}' | sed 's/@.*//' | sort -u)
sanitizer='^(__asan|__ubsan|__sanitizer|__lsan|__msan|__tsan)'

# 1. libmsformat: every undefined symbol is its own, zstd's, libc's or a sanitizer's.
own=$(nm --defined-only "$fmt" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u)
while read -r sym; do
  [ -z "$sym" ] && continue
  case $sym in ZSTD_*) continue ;; *:) continue ;; esac
  # compiler runtime: PIC base, CPU feature probe (libgcc), stack protector
  case $sym in _GLOBAL_OFFSET_TABLE_|__cpu_model|__cpu_indicator_init|__stack_chk_fail) continue ;; esac
  [[ $sym =~ $sanitizer ]] && continue
  grep -qxF "$sym" <<<"$own" && continue
  grep -qxF "$sym" <<<"$defined_libc" && continue
  bad "format/ uses '$sym', which is neither libc nor libzstd"
done < <(nm -u "$fmt" | awk '{print $NF}' | sort -u)

# 2. capture: no SQLite anywhere in the agent.
if nm -u "$capl" | grep -q 'sqlite3_'; then bad "capture/ references SQLite symbols"; fi
if nm "$capbin" 2>/dev/null | grep -q 'sqlite3_'; then bad "memsnap-capture contains SQLite symbols"; fi
if ldd "$capbin" 2>/dev/null | grep -q sqlite; then bad "memsnap-capture links libsqlite3"; fi

# 3. sources: includes follow the same rules.
if grep -l 'sqlite3\.h' "$src"/format/*.[ch] "$src"/capture/*.[ch] 2>/dev/null; then
  bad "format/ or capture/ includes sqlite3.h (files above)"
fi
for f in "$src"/format/*.[ch]; do
  while read -r inc; do
    # the format library's own headers, zstd, and C/POSIX headers only
    case $inc in
      msnap*.h|zstd.h|nmmintrin.h) ;;
      stddef.h|stdint.h|stdarg.h|string.h|stdio.h|stdlib.h|errno.h|limits.h|inttypes.h|time.h) ;;
      fcntl.h|unistd.h|sys/stat.h|sys/types.h|sys/uio.h|sys/file.h) ;;
      *) bad "$f includes <$inc>: format/ may use libc and libzstd only (extend this list only with libc headers)" ;;
    esac
  done < <(sed -n 's/^#include [<"]\([^>"]*\)[>"].*/\1/p' "$f")
done
if grep -l '\.\./analyze\|\.\./capture' "$src"/format/*.[ch] 2>/dev/null; then bad "format/ reaches into analyze/ or capture/"; fi
if grep -l '"\(inspect\|json_out\)\.h"' "$src"/capture/*.[ch] 2>/dev/null; then bad "capture/ includes analyze/ headers"; fi

[ $fail -eq 0 ] && echo "layering: format/ uses libc+libzstd only; capture/ has no SQLite; sources agree"
exit $fail
