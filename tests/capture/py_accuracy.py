"""memsnap-capture's CPython accuracy test (issue 4), run by CTest.

usage: py_accuracy.py MEMSNAP_CAPTURE MEMSNAP TARGET_SCRIPT [N]

For every CPython on this machine (pyenv 3.8-3.13, Debian's
/usr/bin/python3.11), starts py_heap_target.py (a known heap of about 100*N
objects), captures it from outside, dumps the snapshot, then has the target
compute its own ground truth and sys._debugmallocstats(), and checks:
  - every type with at least 1,000 objects: count and sys.getsizeof bytes
    within 1%;
  - all objects' getsizeof bytes within 2%;
  - the pymalloc size-class table and totals exactly equal (or, for a
    stripped build, reported unavailable with a reason);
  - the snapshot records the pause and says the Python part is complete;
  - PYTHONMALLOC=malloc, pymalloc_debug and malloc_debug are detected and
    reported approximate (a stripped build: malloc only);
  - with --max-memory below the heap, the walk is partial and says so.
A Python that is not installed prints "SKIP: ..."; failures print what
differs and make the exit status 1. Processes started here are ended by PID.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import test_pythons  # noqa: E402


def read_until(proc, word, timeout):
    end = time.time() + timeout
    buf = b""
    while time.time() < end:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            if (word + "\n").encode() in buf:
                return True
        if proc.poll() is not None:
            break
    return False


def parse_stats(path):
    classes, totals = {}, {}
    for line in open(path, errors="replace"):
        if line.startswith("Total"):  # the end of the pymalloc part
            totals["Total"] = int(line.split("=")[1].strip().replace(",", ""))
            break
        m = re.match(r"\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", line)
        if m:
            c, size, pools, used, avail = map(int, m.groups())
            classes[c] = (size, pools, used, avail)
            continue
        m = re.match(r"(.*?)\s*=\s*([\d,]+)\s*$", line)
        if m:
            totals[m.group(1).strip()] = int(m.group(2).replace(",", ""))
    return classes, totals


def check_one(label, python, capture, memsnap, target, n, tmp):
    errors = []
    stats = os.path.join(tmp, "stats.txt")
    truthf = os.path.join(tmp, "truth.txt")
    snap = os.path.join(tmp, "snap.msnap")
    for p in (stats, truthf, snap):
        if os.path.exists(p):
            os.unlink(p)
    proc = subprocess.Popen([python, target, str(n), stats, truthf], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        if not read_until(proc, "READY", 120):
            return ["%s: the target did not print READY" % label]
        time.sleep(0.2)
        t0 = time.time()
        r = subprocess.run([capture, "-p", str(proc.pid), "-o", snap, "-q"], capture_output=True, text=True,
                           timeout=120)
        wall = time.time() - t0
        if r.returncode != 0:
            return ["%s: memsnap-capture exited %d: %s" % (label, r.returncode, r.stderr.strip())]
        d = subprocess.run([memsnap, "dump", snap], capture_output=True, text=True, timeout=120)
        if d.returncode != 0:
            return ["%s: memsnap dump exited %d: %s" % (label, d.returncode, d.stderr.strip())]
        s = json.loads(d.stdout.splitlines()[0])["sections"]
        os.kill(proc.pid, signal.SIGUSR1)
        if not read_until(proc, "TRUTH", 300):
            return ["%s: the target did not compute its ground truth" % label]
    finally:
        pass_pid = proc.pid
        if proc.poll() is None:
            os.kill(pass_pid, signal.SIGKILL)
        proc.wait()

    diags = s.get("diagnostics", [])
    py_diag = [x for x in diags if x["area"] == "python"]
    if not py_diag or py_diag[0]["status"] != 0:
        errors.append("%s: python diagnostic is not 'complete': %s" % (label, py_diag))
    pause = s["snapshot"][0]["pause_ns"]
    if not pause:
        errors.append("%s: the snapshot records no pause" % label)

    ours = {}
    for row in s.get("py_types", []):
        for col in ("name", "qualname", "module"):
            if isinstance(row.get(col), dict):  # not UTF-8: memsnap dump writes {"hex": ...}
                errors.append("%s: a type whose %s is not UTF-8 (%s): bytes taken for a type object?" %
                              (label, col, row[col]))
                row[col] = "hex:" + row[col].get("hex", "")
        key = "%s.%s" % (row["module"], row["qualname"]) if row.get("qualname") else row["name"]
        key = key.replace(" ", "_")
        c, b = ours.get(key, (0, 0))
        ours[key] = (c + row["count"], b + row["sizeof_bytes"])
    truth = {}
    for line in open(truthf):
        k, c, b = line.split()
        truth[k] = (int(c), int(b))
    compared, worst = 0, 0.0
    for k, (tc, tb) in sorted(truth.items()):
        if tc < 1000:
            continue
        compared += 1
        oc, ob = ours.get(k, (0, 0))
        ec = abs(oc - tc) / tc
        eb = abs(ob - tb) / tb if tb else 0
        worst = max(worst, ec, eb)
        if ec > 0.01 or eb > 0.01:
            errors.append("%s: type %s: count %d vs truth %d (%.2f%%), bytes %d vs %d (%.2f%%)" %
                          (label, k, oc, tc, 100 * ec, ob, tb, 100 * eb))
    tot_t = sum(b for _, b in truth.values())
    tot_o = sum(b for _, b in ours.values())
    etot = abs(tot_o - tot_t) / tot_t
    if etot > 0.02:
        errors.append("%s: total getsizeof bytes %d vs truth %d (%.2f%%)" % (label, tot_o, tot_t, 100 * etot))

    classes, totals = parse_stats(stats)
    pm = [x for x in diags if x["area"] == "python.pymalloc" and x["status"] == 2]
    pm_approx = [x for x in diags if x["area"] == "python.pymalloc" and x["status"] == 1 and "stripped" in x["message"]]
    pm_note = "exact"
    if pm:
        pm_note = "unavailable: " + pm[0]["message"]
        if "py_size_classes" in s:
            errors.append("%s: pymalloc reported unavailable but a size-class table was written" % label)
    elif pm_approx:
        # a stripped build: size classes from a pool-header scan, checked
        # within 1% of blocks in use per class with at least 1,000 blocks
        got = {r["index"]: r["blocks_used"] for r in s.get("py_size_classes", [])}
        worst_pm = 0.0
        for c, (size, pools, used, avail) in classes.items():
            if used < 1000:
                continue
            e = abs(got.get(c, 0) - used) / used
            worst_pm = max(worst_pm, e)
            if e > 0.01:
                errors.append("%s: size class %d (pool-header scan): %d blocks in use, _debugmallocstats %d" %
                              (label, c, got.get(c, 0), used))
        pm_note = "by pool-header scan, worst class off %.3f%%" % (100 * worst_pm)
    else:
        got = {r["index"]: (r["block_size"], r["pools"], r["blocks_used"], r["blocks_free"])
               for r in s.get("py_size_classes", [])}
        want = {c: v for c, v in classes.items() if v[1]}
        if got != want:
            for c in sorted(set(got) | set(want)):
                if got.get(c) != want.get(c):
                    errors.append("%s: size class %d: snapshot %s, _debugmallocstats %s" %
                                  (label, c, got.get(c), want.get(c)))
        t = s.get("py_alloc_totals", [{}])[0]
        pairs = [("# arenas allocated total", "arenas_allocated"), ("# arenas reclaimed", "arenas_reclaimed"),
                 ("# arenas highwater mark", "arenas_highwater"), ("# arenas allocated current", "arenas"),
                 ("# bytes in allocated blocks", "allocated_bytes"),
                 ("# bytes in available blocks", "available_bytes"),
                 ("# bytes lost to pool headers", "pool_header_bytes"),
                 ("# bytes lost to quantization", "quantization_bytes"),
                 ("# bytes lost to arena alignment", "alignment_bytes"), ("Total", "arena_bytes")]
        for name, col in pairs:
            if name in totals and totals[name] != t.get(col):
                errors.append("%s: %s = %d in _debugmallocstats, %s = %s in the snapshot" %
                              (label, name, totals[name], col, t.get(col)))
        unused = [v for k, v in totals.items() if k.endswith("unused pools * 16384 bytes") or
                  k.endswith("unused pools * 4096 bytes")]
        if unused and unused[0] != t.get("unused_pool_bytes"):
            errors.append("%s: unused pool bytes %d vs snapshot %s" % (label, unused[0], t.get("unused_pool_bytes")))
    nobj = sum(r["count"] for r in s.get("py_types", []))
    print("%-14s %8d objects, %3d types >= 1000 compared, worst %.3f%%, total bytes off %.3f%%, "
          "pause %.1f ms, capture %.2f s, pymalloc %s" %
          (label, nobj, compared, 100 * worst, 100 * etot, pause / 1e6, wall, pm_note), flush=True)
    return errors


def check_cap(label, python, capture, memsnap, target, n, tmp):
    """--max-memory below the heap: a valid snapshot, the walk partial and
    saying so, the agent within its cap."""
    errors = []
    stats = os.path.join(tmp, "stats.txt")
    truthf = os.path.join(tmp, "truth.txt")
    snap = os.path.join(tmp, "cap.msnap")
    proc = subprocess.Popen([python, target, str(n), stats, truthf], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        if not read_until(proc, "READY", 120):
            return ["%s: the target did not print READY" % label]
        cap_mib = 160
        p = subprocess.Popen([capture, "-p", str(proc.pid), "-o", snap, "-f", "-q", "--max-memory", str(cap_mib)],
                             stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read().decode(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0:
            return ["%s: --max-memory %d: memsnap-capture failed: %s" % (label, cap_mib, err.strip())]
        d = subprocess.run([memsnap, "dump", snap], capture_output=True, text=True, timeout=120)
        s = json.loads(d.stdout.splitlines()[0])["sections"]
        diags = {x["area"]: x for x in s.get("diagnostics", [])}
        copy = diags.get("python.copy")
        if not copy or "memory cap" not in copy["message"] or copy["status"] != 1:
            errors.append("%s: --max-memory %d: no diagnostic about the cap: %s" % (label, cap_mib, copy))
        if diags.get("python", {}).get("status") != 1:
            errors.append("%s: --max-memory %d: the python part is not marked approximate: %s" %
                          (label, cap_mib, diags.get("python")))
        rows = s.get("py_types", [])
        if not rows or any(not (r["flags"] & 4) for r in rows):
            errors.append("%s: --max-memory %d: histogram rows not flagged incomplete" % (label, cap_mib))
        if ru.ru_maxrss > cap_mib * 1024:
            errors.append("%s: --max-memory %d: the agent peaked at %d KiB" % (label, cap_mib, ru.ru_maxrss))
        print("%-14s --max-memory %d MiB: agent peak %.0f MiB, %s" %
              (label, cap_mib, ru.ru_maxrss / 1024, copy["message"] if copy else "-"), flush=True)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return errors


ALLOC_TARGET = r"""
import sys
keep = [list(range(10**6, 10**6 + 20000)), ["s%d" % i for i in range(20000)]]
sys.stdout.write("READY\n"); sys.stdout.flush()
import time
time.sleep(600)
"""


def check_allocators(label, python, capture, memsnap, tmp):
    """PYTHONMALLOC=malloc / pymalloc_debug: detected, reported approximate,
    and the histogram still has the objects reached by reference. A stripped
    build has no symbols to tell debug hooks apart: only malloc is checked."""
    errors = []
    modes = ["malloc"] if "debian" in label else ["malloc", "pymalloc_debug", "malloc_debug"]
    snap = os.path.join(tmp, "alloc.msnap")
    got_all = []
    for mode in modes:
        env = dict(os.environ, PYTHONMALLOC=mode)
        proc = subprocess.Popen([python, "-c", ALLOC_TARGET], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=env)
        try:
            if not read_until(proc, "READY", 60):
                errors.append("%s PYTHONMALLOC=%s: the target did not start" % (label, mode))
                continue
            r = subprocess.run([capture, "-p", str(proc.pid), "-o", snap, "-f", "-q"], capture_output=True,
                               text=True, timeout=120)
            if r.returncode != 0:
                errors.append("%s PYTHONMALLOC=%s: memsnap-capture exited %d: %s" %
                              (label, mode, r.returncode, r.stderr.strip()))
                continue
            d = subprocess.run([memsnap, "dump", snap], capture_output=True, text=True, timeout=120)
            s = json.loads(d.stdout.splitlines()[0])["sections"]
            alloc = s["py_runtime"][0].get("allocator")
            got_all.append("%s->%s" % (mode, alloc))
            if alloc != mode:
                errors.append("%s PYTHONMALLOC=%s: allocator reported as %s" % (label, mode, alloc))
            pm = [x for x in s.get("diagnostics", []) if x["area"] == "python.pymalloc"]
            if not pm or pm[0]["status"] != 1 or mode not in pm[0]["message"]:
                errors.append("%s PYTHONMALLOC=%s: no approximate python.pymalloc diagnostic naming it: %s" %
                              (label, mode, pm))
            ints = sum(r["count"] for r in s.get("py_types", []) if r["name"] == "int")
            if ints < 20000:
                errors.append("%s PYTHONMALLOC=%s: %d ints in the histogram, the target holds 20,000" %
                              (label, mode, ints))
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    print("%-14s allocators: %s" % (label, ", ".join(got_all)), flush=True)
    return errors


def main():
    capture, memsnap, target = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    tmp = tempfile.mkdtemp(prefix="msnap-acc-")
    errors = []
    try:
        pys = test_pythons.installed()
        for label, exe in pys:
            errors += check_one(label, exe, capture, memsnap, target, n, tmp)
        for label, exe in pys:
            errors += check_allocators(label, exe, capture, memsnap, tmp)
        if pys:
            errors += check_cap(pys[-1][0], pys[-1][1], capture, memsnap, target, n, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for e in errors:
        print("FAIL: " + e, flush=True)
    if not pys:
        print("SKIP: no CPython found at all", flush=True)
    return 1 if errors else 0


sys.exit(main())
