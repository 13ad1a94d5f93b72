"""Target of py_scenarios.py: runs one step per line read from stdin and
answers "OK <json>" on stdout. Stdlib only (numpy only when asked)."""
import gc
import json
import os
import sys
import tempfile

keep = {}


class Leaky:
    def __init__(self, i):
        self.i = i


def mallocstats():
    """sys._debugmallocstats() figures: bytes in allocated blocks, arena bytes."""
    fd, path = tempfile.mkstemp()
    saved = os.dup(2)
    try:
        os.dup2(fd, 2)
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("# bytes in allocated blocks"):
                out["allocated"] = int(line.split("=")[1].replace(",", ""))
            elif "bytes/arena" in line:
                out["arena_bytes"] = int(line.split("=")[1].replace(",", ""))
    os.unlink(path)
    return out


def step(cmd):
    if cmd == "objects":
        n = 100_000
        # ints under 2**30 (one digit): memsnap-capture 0.1 misses larger ones
        keep["ints"] = [10**6 + i for i in range(n)]
        keep["strs"] = ["s%07d" % i for i in range(n)]
        keep["lists"] = [[i] for i in range(n)]
        keep["dicts"] = [{"k": i} for i in range(n)]
        keep["tuples"] = [(i, i) for i in range(n)]
        # ground truth: every object these hold, once (small ints are cached
        # and existed before)
        seen, sizes = set(), {}
        def add(o):
            if id(o) in seen or (type(o) is int and -5 <= o <= 256):
                return
            seen.add(id(o))
            sizes[type(o).__name__] = sizes.get(type(o).__name__, 0) + sys.getsizeof(o)
        for v in keep.values():
            add(v)
            for o in v:
                add(o)
                for x in (o.values() if type(o) is dict else o if type(o) in (list, tuple) else ()):
                    add(x)
        add(keep)  # the dict keep itself grew
        return {k: sizes.get(k, 0) for k in ("int", "str", "list", "dict", "tuple")}
    if cmd == "import":
        import array, decimal, sqlite3, ssl  # noqa: F401
        return {}
    if cmd == "numpy":
        import numpy  # noqa: F401
        return {}
    if cmd == "bigints":
        keep["big"] = list(range(10**6, 2 * 10**6))
        return {}
    if cmd == "del":
        keep.clear()
        gc.collect()
        return {}
    if cmd in ("scattered", "contiguous"):
        objs = [float(i) for i in range(2_000_000)]
        if cmd == "scattered":
            keep["frag"] = objs[::10]  # 90% freed all over the heap
        else:
            keep["frag"] = objs[1_800_000:]  # the first 90% freed
        del objs
        gc.collect()
        return mallocstats()
    if cmd == "leak":
        keep.setdefault("cache", []).extend(Leaky(i) for i in range(20_000))
        return {}
    raise ValueError(cmd)


print("READY", flush=True)
for line in sys.stdin:
    print("OK " + json.dumps(step(line.strip())), flush=True)
