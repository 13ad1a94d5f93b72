"""A CPython process with a known heap, for memsnap-capture's accuracy test.

Run with any CPython 3.8+: python py_heap_target.py N STATS_FILE TRUTH_FILE

1. Builds a heap of about 100*N objects of the kinds the issue names
   (instances with __dict__, with __slots__, a subclass; str-keyed dicts;
   lists of ints, floats and strs; bytes; sets; tuples; strs over 512
   bytes; a str-keyed cache dict).
2. Writes sys._debugmallocstats() (its C stderr) to STATS_FILE, prints
   READY and waits in signal.pause(), allocating and freeing nothing
   (checked under gdb: no pymalloc call between the dump and the wait),
   while the test captures it.
3. On SIGUSR1 computes its own ground truth into TRUTH_FILE (one line per
   type: key count getsizeof-bytes; the key is tp_name for static types and
   module.qualname for heap types), prints TRUTH and waits again; SIGTERM
   ends it.

The ground truth is everything reachable from gc.get_objects() through
gc.get_referents, plus what get_referents does not report (keys of dicts,
code objects' constants and names), de-duplicated by id. It runs after the
capture, so the objects it creates itself are excluded by id.
"""
import gc
import os
import signal
import sys
import types


class WithDict:
    def __init__(self, i):
        self.a = i
        self.b = "x"


class WithSlots:
    __slots__ = ("x", "y")

    def __init__(self, i):
        self.x = i
        self.y = 0.5


class Sub(WithDict):
    pass


def build(n):
    # Sizes: the interpreter holds objects the ground truth cannot reach
    # (the interned-string dict, 3.11+'s per-code-object name tuples and
    # kind bytes, static types' internals: about 2,000 tuples, 2,000 bytes
    # and 200 KB of dicts). The test's 1% tolerance is for the heap it
    # builds, so the kinds those internals share are built large enough to
    # keep them under 1%.
    keep = {}
    keep["dicts"] = [WithDict(i) for i in range(n)]
    keep["slots"] = [WithSlots(i) for i in range(n)]
    keep["subs"] = [Sub(i) for i in range(n // 2)]
    keep["strdicts"] = [{"k%d" % j: j for j in range(5)} for _ in range(4 * n)]
    keep["ints"] = list(range(1000000, 1000000 + 2 * n))
    keep["big_ints"] = [2**40 + i for i in range(n)]  # normalised: blocks larger than needed
    keep["floats"] = [i + 0.25 for i in range(n)]
    keep["strs"] = ["s%07d" % i for i in range(2 * n)]
    keep["bytes"] = [b"b%07d" % i for i in range(16 * n)]
    keep["sets"] = [set(range(i % 7)) for i in range(n // 4)]
    keep["tuples"] = [(i, -i) for i in range(16 * n)]
    keep["long_strs"] = ["L" * 600 + str(i) for i in range(max(n // 10, 1000))]
    cache = {}
    for i in range(15 * n):
        cache["key%d" % i] = "value%d" % i
    keep["cache"] = cache
    return keep


def type_key(t):
    if t.__flags__ & (1 << 9):  # Py_TPFLAGS_HEAPTYPE
        return "%s.%s" % (t.__module__, t.__qualname__)
    mod = t.__dict__.get("__module__") if isinstance(t.__dict__.get("__module__"), str) else None
    if mod and mod != "builtins":
        return "%s.%s" % (mod, t.__name__)
    m = t.__module__
    return t.__name__ if m == "builtins" else "%s.%s" % (m, t.__name__)


if sys.version_info < (3, 11):
    CODE_ATTRS = ("co_code", "co_lnotab", "co_varnames", "co_freevars", "co_cellvars", "co_filename", "co_name")
else:
    CODE_ATTRS = ("co_linetable", "co_exceptiontable", "co_filename", "co_name", "co_qualname")


def truth(path, exclude):
    seen = set()
    stack = gc.get_objects()
    exclude.add(id(stack))
    exclude.add(id(seen))
    counts = {}
    sizes = {}
    while stack:
        o = stack.pop()
        i = id(o)
        if i in seen or i in exclude:
            continue
        seen.add(i)
        t = type(o)
        k = type_key(t)
        counts[k] = counts.get(k, 0) + 1
        sizes[k] = sizes.get(k, 0) + sys.getsizeof(o)
        stack.extend(gc.get_referents(o))
        if t is dict:
            stack.extend(o.keys())
        elif t is type and not (o.__flags__ & (1 << 9)):
            # a static type: get_referents reports nothing for it, but its
            # __mro__, __bases__ and attribute dict are live objects
            stack.append(o.__mro__)
            stack.append(o.__bases__)
            stack.extend(gc.get_referents(o.__dict__))
        elif t is types.CodeType:
            stack.append(o.co_consts)  # the tuples themselves, then their items
            stack.append(o.co_names)
            # the other objects a code object holds, where reading them
            # allocates nothing (3.11+ builds co_code and co_varnames on
            # demand: those are left out)
            for attr in CODE_ATTRS:
                v = getattr(o, attr, None)
                if v is not None:
                    stack.append(v)
    with open(path + ".tmp", "w") as f:
        for k in sorted(counts):
            f.write("%s %d %d\n" % (k.replace(" ", "_"), counts[k], sizes[k]))
    os.rename(path + ".tmp", path)


def main():
    n = int(sys.argv[1])
    stats_path, truth_path = sys.argv[2], sys.argv[3]
    keep = build(n)
    signal.signal(signal.SIGUSR1, lambda *a: None)
    # The pymalloc figures must match the idle heap the test captures:
    # nothing may be allocated and kept, or freed, between the dump and
    # the wait (no `with`, no print, the file stays open). So after the dump
    # only locals are called:
    # - an attribute lookup such as `os.write` goes through the type
    #   attribute cache (_PyType_Lookup on the module type), and a cache miss
    #   evicts the name held in that slot; when the cache held the last
    #   reference to that name, a 48-byte block is freed. The slot depends on
    #   addresses, so this happened only in some environments (3.12.1 under
    #   CI=true ASAN_OPTIONS=...: 803,056 blocks in class 2 in the dump,
    #   803,055 in the heap).
    # - the collector is run and then disabled, so no collection scheduled
    #   by an allocation runs at the eval breaker between dump and wait.
    dump, dup2, write, pause = sys._debugmallocstats, os.dup2, os.write, signal.pause
    gc.collect()
    gc.disable()
    fd = os.open(stats_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stderr.flush()
    saved = os.dup(2)
    dup2(fd, 2)
    dump()
    dup2(saved, 2)
    write(1, b"READY\n")
    pause()

    os.close(saved)
    os.close(fd)
    truth(truth_path, set())
    print("TRUTH", flush=True)
    while True:
        signal.pause()


main()
