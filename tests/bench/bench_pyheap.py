"""Benchmark of memsnap-capture's CPython heap walk (issue 4).

usage: bench_pyheap.py MEMSNAP_CAPTURE MEMSNAP [--python EXE] [--objects N,...] [--repeat R]

For each size (default 1,000,000 and 10,000,000 mixed objects: instances,
dicts, ints, floats, strs, tuples, lists), starts a target with the chosen
CPython (default: the newest pyenv one, else python3), then in the same run:
  - captures it R times (default 5) and reports the medians of the target's
    pause (recorded in the snapshot), the agent's wall time and its peak RSS;
  - has the target time its own in-process histogram, what objgraph and
    pympler do (gc.get_objects() + sys.getsizeof per object), R times;
  - prints objects seen by each and the ratios pause/in-process and
    agent/in-process. Goals (1,000,000 objects): pause <= 30 ms, agent
    < 0.3 s, both <= 0.3x the in-process histogram.
Also checks the target's RSS before and after the captures (the agent adds
nothing to it). Ends every process it started by PID.
"""
import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import test_pythons  # noqa: E402

TARGET = r'''
import gc, os, signal, sys, time
n = int(sys.argv[1])
class Item:
    def __init__(self, i):
        self.i = i
        self.name = "item%d" % i
per = n // 10
keep = []
keep.append([Item(i) for i in range(per)])            # ~3 objects each (instance, dict/values, str)
keep.append([{"a": i, "b": -i} for i in range(per)])
keep.append(list(range(10**6, 10**6 + per)))
keep.append([i * 0.5 for i in range(per)])
keep.append(["s%d" % i for i in range(per)])
keep.append([(i, "t") for i in range(per)])
keep.append([[i] for i in range(per)])
def histogram():
    t0 = time.perf_counter()
    h = {}
    objs = gc.get_objects()
    for o in objs:
        t = type(o)
        c = h.get(t)
        s = sys.getsizeof(o)
        if c is None:
            h[t] = [1, s]
        else:
            c[0] += 1
            c[1] += s
    return time.perf_counter() - t0, len(objs)
def on_usr1(*a):
    dt, n = histogram()
    print("HIST %.6f %d" % (dt, n), flush=True)
signal.signal(signal.SIGUSR1, on_usr1)
print("READY", flush=True)
while True:
    signal.pause()
'''


def read_line(proc, prefix, timeout):
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([proc.stdout], [], [], 0.5)
        if r:
            line = proc.stdout.readline()
            if not line:
                return None
            if line.startswith(prefix):
                return line.strip()
        if proc.poll() is not None:
            return None
    return None


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_agent(capture, memsnap, pid, path):
    if os.path.exists(path):
        os.unlink(path)
    t0 = time.perf_counter()
    p = subprocess.Popen([capture, "-p", str(pid), "-o", path, "-q"], stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("memsnap-capture failed: " + err)
    d = subprocess.run([memsnap, "dump", path], capture_output=True, text=True, check=True)
    s = json.loads(d.stdout.splitlines()[0])["sections"]
    objs = sum(r["count"] for r in s.get("py_types", []))
    return wall, ru.ru_maxrss, s["snapshot"][0]["pause_ns"] / 1e9, objs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("memsnap")
    ap.add_argument("--python", default=None)
    ap.add_argument("--objects", default="1000000,10000000")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    py = a.python or test_pythons.newest_pyenv() or "python3"
    ver = subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                         text=True).stdout.strip()
    print("CPython %s (%s), %d repetitions, medians" % (ver, py, a.repeat))
    print("%-10s %9s %9s %9s %9s %9s %10s %10s %8s %8s" %
          ("objects", "seen", "in-proc", "in-proc", "pause", "agent", "agent", "target", "pause/", "agent/"))
    print("%-10s %9s %9s %9s %9s %9s %10s %10s %8s %8s" %
          ("built", "by agent", "seen", "hist s", "ms", "wall s", "peak MiB", "RSS +KiB", "in-proc", "in-proc"))
    tmp = tempfile.mkdtemp(prefix="msnap-bench-")
    ok = True
    for n in [int(x) for x in a.objects.split(",")]:
        proc = subprocess.Popen([py, "-c", TARGET, str(n)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                text=True)
        try:
            if not read_line(proc, "READY", 600):
                raise SystemExit("the target did not start")
            time.sleep(0.5)
            rss0 = rss_kib(proc.pid)
            walls, peaks, pauses, hists = [], [], [], []
            seen = inproc_seen = 0
            for _ in range(a.repeat):
                wall, peak, pause, seen = run_agent(a.capture, a.memsnap, proc.pid, os.path.join(tmp, "b.msnap"))
                walls.append(wall)
                peaks.append(peak)
                pauses.append(pause)
            rss1 = rss_kib(proc.pid)
            for _ in range(a.repeat):
                os.kill(proc.pid, signal.SIGUSR1)
                line = read_line(proc, "HIST", 600)
                if not line:
                    raise SystemExit("the target did not answer")
                _, dt, cnt = line.split()
                hists.append(float(dt))
                inproc_seen = int(cnt)
            h = statistics.median(hists)
            pz, wl = statistics.median(pauses), statistics.median(walls)
            print("%-10d %9d %9d %9.3f %9.1f %9.3f %10.1f %10d %8.2f %8.2f" %
                  (n, seen, inproc_seen, h, pz * 1e3, wl, statistics.median(peaks) / 1024, rss1 - rss0, pz / h,
                   wl / h), flush=True)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    print("goals at 1,000,000 objects: pause <= 30 ms, agent wall < 0.3 s, both <= 0.3x in-process;"
          " the agent sees every object, in-process gc.get_objects() only the GC-tracked ones")
    return 0 if ok else 1


sys.exit(main())
