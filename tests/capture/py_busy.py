"""memsnap-capture on a busy CPython process, 100 times in a row (issue 4).

usage: py_busy.py MEMSNAP_CAPTURE MEMSNAP [COUNT]

For the newest pyenv CPython (else python3) and, when installed, Debian's
/usr/bin/python3.11: starts a target whose 4 threads allocate and free
objects without pause, captures a series of COUNT (default 100) snapshots
(pausing it each time), with --no-pause too, and checks that
  - the agent exits 0 and every snapshot has an object histogram;
  - every snapshot's Python part is complete, approximate or best-effort,
    and says so (diagnostics "python" status 0, 1 or 3), never missing;
  - the target is never left stopped: after the series it is running
    (state R or S, never t or T) and its threads are still making progress.
Prints one summary line per Python; "FAIL: ..." lines make CTest fail.
Processes started here are ended by PID.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import test_pythons  # noqa: E402

TARGET = r'''
import sys, threading, time
counts = [0, 0, 0, 0]
def work(k):
    keep = []
    while True:
        keep.append([{"k": i, "v": str(i)} for i in range(200)])
        keep.append(tuple(range(k, k + 50)))
        if len(keep) > 400:
            del keep[:200]
        counts[k] += 1
for k in range(4):
    threading.Thread(target=work, args=(k,), daemon=True).start()
print("READY", flush=True)
while True:
    time.sleep(0.2)
    print("PROGRESS %d" % sum(counts), flush=True)
'''


def progress(proc, timeout=10):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        r, _, _ = select.select([proc.stdout], [], [], 0.5)
        if r:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("PROGRESS"):
                last = int(line.split()[1])
                return last
    return last


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def thread_states(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                out.append(f.read().rsplit(")", 1)[1].split()[0])
        except OSError:
            pass
    return out


def run(label, python, capture, memsnap, count, extra, tmp):
    errors = []
    proc = subprocess.Popen([python, "-c", TARGET], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    out = os.path.join(tmp, "busy.msnap")
    try:
        if progress(proc, 60) is None:
            return ["%s: the target did not start" % label]
        if os.path.exists(out):
            os.unlink(out)
        t0 = time.time()
        r = subprocess.run([capture, "-p", str(proc.pid), "-o", out, "-i", "0.02", "-n", str(count), "-q"] + extra,
                           capture_output=True, text=True, timeout=600)
        wall = time.time() - t0
        if r.returncode != 0:
            errors.append("%s %s: memsnap-capture exited %d: %s" % (label, extra, r.returncode, r.stderr.strip()))
        st = [state(proc.pid)] + thread_states(proc.pid)
        if any(s in "tT" for s in st):
            errors.append("%s %s: the target is left stopped: states %s" % (label, extra, st))
        p1 = progress(proc)
        time.sleep(0.5)
        p2 = progress(proc)
        if p1 is None or p2 is None or p2 <= p1:
            errors.append("%s %s: the target makes no progress after the series (%s, %s)" % (label, extra, p1, p2))
        d = subprocess.run([memsnap, "dump", out], capture_output=True, text=True, timeout=300)
        if d.returncode != 0:
            return errors + ["%s %s: memsnap dump exited %d: %s" % (label, extra, d.returncode, d.stderr.strip())]
        snaps = [json.loads(line)["sections"] for line in d.stdout.splitlines()]
        if len(snaps) != count:
            errors.append("%s %s: %d snapshots, want %d" % (label, extra, len(snaps), count))
        statuses = {}
        pauses = []
        for i, s in enumerate(snaps):
            py = [x for x in s.get("diagnostics", []) if x["area"] == "python"]
            if not py:
                errors.append("%s %s: snapshot %d has no python diagnostic" % (label, extra, i))
                continue
            stt = py[0]["status"]
            statuses[stt] = statuses.get(stt, 0) + 1
            if stt not in (0, 1, 3):
                errors.append("%s %s: snapshot %d: python status %d: %s" % (label, extra, i, stt, py[0]["message"]))
            if not s.get("py_types"):
                errors.append("%s %s: snapshot %d has no object histogram: %s" %
                              (label, extra, i, [x["message"] for x in s.get("diagnostics", [])]))
            if "--no-pause" in extra:
                if stt != 3 or not (s["snapshot"][0]["flags"] & 1):
                    errors.append("%s %s: snapshot %d read without pause is not marked best-effort" %
                                  (label, extra, i))
            else:
                pauses.append(s["snapshot"][0]["pause_ns"] / 1e6)
        pauses.sort()
        print("%-12s %-11s %3d snapshots in %.1f s, python status counts %s%s" %
              (label, " ".join(extra) or "(pause)", len(snaps), wall, statuses,
               ", pause median %.1f ms, max %.1f ms" % (pauses[len(pauses) // 2], pauses[-1]) if pauses else ""),
              flush=True)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return errors


def main():
    capture, memsnap = sys.argv[1:3]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    tmp = os.environ.get("TMPDIR", "/tmp")
    tmp = os.path.join(tmp, "msnap-busy-%d" % os.getpid())
    os.makedirs(tmp)
    pys = []
    newest = test_pythons.newest_pyenv()
    if newest:
        pys.append(("pyenv", newest))
    else:
        print("SKIP: no pyenv CPython 3.8+ on this machine", flush=True)
    if os.access("/usr/bin/python3.11", os.X_OK):
        pys.append(("debian 3.11", "/usr/bin/python3.11"))
    else:
        print("SKIP: /usr/bin/python3.11 is not installed", flush=True)
    errors = []
    try:
        for label, exe in pys:
            errors += run(label, exe, capture, memsnap, count, [], tmp)
            errors += run(label, exe, capture, memsnap, count // 4, ["--no-pause"], tmp)
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    for e in errors:
        print("FAIL: " + e, flush=True)
    return 1 if errors else 0


sys.exit(main())
