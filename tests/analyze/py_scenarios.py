"""End-to-end scenarios of memsnap report/diff/frag/trend (issue 6), run by CTest.

usage: py_scenarios.py MEMSNAP_CAPTURE MEMSNAP TARGET_SCRIPT

For every CPython on this machine (pyenv 3.8-3.13, Debian's /usr/bin/python3.11)
starts py_scenario_target.py, captures it from outside at each step and checks
what the analyzer concludes:
  1. object sizes: report's getsizeof bytes of int, str, list, dict and tuple
     grow by what sys.getsizeof says the target created (within 1%);
  2. module loading: diff names the new extension modules (_decimal, _ssl,
     _sqlite3) with their RSS and the new shared libraries (numpy too when it
     imports in that Python, else a SKIP line);
  3. a list of 1,000,000 ints then del: report shows the ints and the list,
     diff shows RSS going down and arenas returned to the OS;
  4. fragmentation: 2,000,000 floats with 90% freed scattered: frag's
     utilisation within 2 points of sys._debugmallocstats, pinned arenas and
     not 'little'; with the first 90% freed: 'little' fragmentation;
  5. a leak: trend names the growing class first.
A missing Python prints "SKIP: ..."; failures print "FAIL: ..." (exit 1).
Processes started here are ended by their PID.
"""
import glob
import json
import shutil
import os
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import test_pythons  # noqa: E402

CAP, MS, TARGET = sys.argv[1:4]
fails = []
KEEP = tempfile.mkdtemp()  # one snapshot per Python, for a diff across processes


def fail(label, what):
    fails.append("%s: %s" % (label, what))
    print("FAIL: %s: %s" % (label, what), flush=True)


class Target:
    def __init__(self, python, tmp):
        self.tmp = tmp
        self.proc = subprocess.Popen([python, TARGET], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "READY":
            raise RuntimeError("target did not start")
        self.n = 0

    def do(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line.startswith("OK "):
            raise RuntimeError("target step %s failed: %r" % (cmd, line))
        return json.loads(line[3:])

    def snap(self, extra=()):
        self.n += 1
        path = os.path.join(self.tmp, "s%d.msnap" % self.n)
        r = subprocess.run([CAP, "-p", str(self.proc.pid), "-o", path, "-q", "--force", *extra],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("memsnap-capture exited %d: %s" % (r.returncode, r.stderr.strip()))
        return path

    def end(self):
        self.proc.kill()  # our own child, by its PID
        self.proc.wait()


def ms(*args):
    r = subprocess.run([MS, *args, "--json"], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("memsnap %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


def types_of(report):
    return {t["type"]: t for t in report["top_types"]}


def scenario_objects(label, python, tmp):
    t = Target(python, tmp)
    try:
        a = t.snap()
        truth = t.do("objects")
        b = t.snap()
        ra, rb = ms("report", "--top", "1000", a), ms("report", "--top", "1000", b)
        ta, tb = types_of(ra), types_of(rb)
        for name, want in truth.items():
            got = tb.get(name, {}).get("getsizeof_bytes", 0) - ta.get(name, {}).get("getsizeof_bytes", 0)
            if abs(got - want) > 0.01 * want:
                fail(label, "scenario 1: %s getsizeof bytes grew by %d, the target created %d" % (name, got, want))
        shutil.copy(b, os.path.join(KEEP, label.replace(" ", "_") + ".msnap"))
        total = sum(p["rss"] for p in rb["parts"] if not p["part"].startswith(" ") and p["g"] != 99)
        if total != rb["snapshot"]["rss"]:
            fail(label, "scenario 1: report's parts add up to %d, RSS is %d" % (total, rb["snapshot"]["rss"]))
    finally:
        t.end()


def scenario_modules(label, python, tmp):
    t = Target(python, tmp)
    try:
        a = t.snap()
        t.do("import")
        b = t.snap()
        d = ms("diff", "--top", "1000", a, b)
        exts = {m["module"]: m for m in d["modules"] if m["kind"] == "extension"}
        for want in ("_decimal", "_ssl", "_sqlite3"):
            if want not in exts:
                fail(label, "scenario 2: diff does not name the new extension module %s" % want)
            elif not (exts[want]["rss"] or 0) > 0:
                fail(label, "scenario 2: %s has no RSS in diff" % want)
        libs = [l["path"] for l in d["libraries"] if l["change"] == "new" and l["category"] == "shared_library"]
        if not any("libssl" in p or "libcrypto" in p for p in libs):
            fail(label, "scenario 2: diff lists no new libssl/libcrypto among %s" % libs)
        if python == "/usr/bin/python3.11" and subprocess.run([python, "-c", "import numpy"],
                                                              capture_output=True).returncode == 0:
            t.do("numpy")
            c = t.snap()
            d = ms("diff", "--top", "1000", b, c)
            if not any(m["module"].startswith("numpy") and m["kind"] == "extension" for m in d["modules"]):
                fail(label, "scenario 2: diff does not name numpy's extension modules")
        else:
            print("SKIP: %s: numpy (python3-numpy) is not importable by this Python" % label, flush=True)
    finally:
        t.end()


def scenario_bigints(label, python, tmp):
    t = Target(python, tmp)
    try:
        t.do("bigints")
        a = t.snap()
        t.do("del")
        b = t.snap()
        ta = types_of(ms("report", "--top", "1000", a))
        if ta.get("int", {}).get("count", 0) < 1_000_000:
            fail(label, "scenario 3: report shows %d ints, expected over 1,000,000" % ta.get("int", {}).get("count", 0))
        if ta.get("list", {}).get("allocated_bytes", 0) < 8_000_000:
            fail(label, "scenario 3: report's lists hold under 8 MB")
        d = ms("diff", a, b)
        if d["arenas"] is None:
            print("SKIP: %s: scenario 3 arenas: no pymalloc totals in this snapshot" % label, flush=True)
        elif d["arenas"]["arenas_returned_to_os"] < 1:
            fail(label, "scenario 3: diff says no arena returned to the OS after del")
        total = [p for p in d["parts"] if p["g"] == 99][0]
        if not total["rss_delta"] < -20_000_000:
            fail(label, "scenario 3: RSS went down by only %d bytes" % -total["rss_delta"])
        heap = [p for p in d["parts"] if p["g"] == 1 and not p["part"].startswith(" ")]
        if d["arenas"] is not None and (not heap or not heap[0]["rss_delta"] < -20_000_000):
            fail(label, "scenario 3: diff does not put the drop in the pymalloc arenas")
    finally:
        t.end()


def scenario_frag(label, python, tmp):
    for mode in ("scattered", "contiguous"):
        t = Target(python, tmp)
        try:
            truth = t.do(mode)
            f = ms("frag", t.snap())
            if f["pymalloc"] is None:
                print("SKIP: %s: scenario 4: no pymalloc totals in this snapshot" % label, flush=True)
                return
            want = 100.0 * truth["allocated"] / truth["arena_bytes"]
            got = f["pymalloc"]["utilisation_pct"]
            if abs(got - want) > 2:
                fail(label, "scenario 4 %s: utilisation %.1f%%, sys._debugmallocstats implies %.1f%%" % (mode, got, want))
            little = f["verdict"].startswith("little")
            if mode == "scattered" and (little or f["pymalloc"]["pinned_arenas"] < 1):
                fail(label, "scenario 4: scattered frees give verdict %r, %d pinned arenas" %
                     (f["verdict"][:40], f["pymalloc"]["pinned_arenas"]))
            if mode == "contiguous" and not little:
                fail(label, "scenario 4: contiguous frees give verdict %r" % f["verdict"][:60])
        finally:
            t.end()


def scenario_leak(label, python, tmp):
    t = Target(python, tmp)
    try:
        paths = []
        for _ in range(4):
            t.do("leak")
            paths.append(t.snap())
        db = os.path.join(tmp, "leak.db")
        subprocess.run([MS, "load", "-q", "-d", db, *paths], check=True, timeout=120)
        tr = ms("trend", db)
        s = tr["leak_suspects"]
        if not s or not s[0]["type"].endswith("Leaky"):
            fail(label, "scenario 5: trend's first leak suspect is %r, not Leaky" % (s[0]["type"] if s else None))
        os.unlink(db)
    finally:
        t.end()


for label, python in test_pythons.installed():
    with tempfile.TemporaryDirectory() as tmp:
        for sc in (scenario_objects, scenario_modules, scenario_bigints, scenario_frag, scenario_leak):
            try:
                sc(label, python, tmp)
            except Exception as e:  # one broken scenario must not hide the others
                fail(label, "%s: %s" % (sc.__name__, e))
    print("%s: done" % label, flush=True)

# diff across two processes (different Pythons, libraries at other paths):
# the parts still reconcile the RSS change exactly
kept = sorted(glob.glob(os.path.join(KEEP, "*.msnap")))
if len(kept) >= 2:
    try:
        d = ms("diff", kept[0], kept[-1])
        t = [p for p in d["parts"] if p["g"] == 99][0]
        groups = [p for p in d["parts"] if p["g"] != 99 and not p["part"].startswith(" ")]
        if (t["before_rss"], t["after_rss"]) != (d["before"]["rss"], d["after"]["rss"]) or \
                sum(p["rss_delta"] for p in groups) != d["after"]["rss"] - d["before"]["rss"]:
            fail("diff %s %s" % (os.path.basename(kept[0]), os.path.basename(kept[-1])),
                 "the parts do not reconcile the RSS change: %s" % t)
    except Exception as e:
        fail("diff across processes", str(e))
else:
    print("SKIP: diff across processes needs two Pythons", flush=True)
shutil.rmtree(KEEP)
sys.exit(1 if fails else 0)
