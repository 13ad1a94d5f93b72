# pylayout_probe.py - run by test_capture_pylayout_runtime under each installed
# CPython: checks memsnap's layout table entry for this version against the
# interpreter's own memory (read with ctypes at id() + offset) and against
# what it reports about itself (sys.getsizeof, __basicsize__, __flags__,
# gc.get_threshold, sys._debugmallocstats ...).
#
# usage: python -I pylayout_probe.py FILE
# FILE has lines "L <member> <value>" (the table entry; "ABSENT" for absent
# members), "SYM <name> <st_value>" (.symtab values from the libpython file,
# optional) and "LIB <path>" (the file those values come from).
# Output: one line per check, "ok <name>" or "FAIL <name>: <detail>", other
# informational lines ("info ..."), then "checks <n> failed <k>".
# Exit 0 when every check passed, 1 otherwise. Runs on 3.8 .. 3.13.
import builtins
import ctypes
import gc
import os
import sys
import tempfile
import types
import weakref

L, SYM, LIB = {}, {}, None
with open(sys.argv[1]) as f:
    for line in f:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "L":
            L[parts[1]] = None if parts[2] == "ABSENT" else int(parts[2])
        elif parts[0] == "SYM":
            SYM[parts[1]] = int(parts[2])
        elif parts[0] == "LIB":
            LIB = parts[1]

MINOR = sys.version_info[1]
n_checks = 0
n_failed = 0


def ok(name, cond, detail=""):
    global n_checks, n_failed
    n_checks += 1
    if cond:
        print("ok", name)
    else:
        n_failed += 1
        print("FAIL %s: %s" % (name, detail))


def eq(name, got, want):
    ok(name, got == want, "memory/interpreter gives %r, the table implies %r" % (got, want))


def u64(a):
    return ctypes.c_uint64.from_address(a).value


def i64(a):
    return ctypes.c_int64.from_address(a).value


def u32(a):
    return ctypes.c_uint32.from_address(a).value


def i32(a):
    return ctypes.c_int32.from_address(a).value


def u8(a):
    return ctypes.c_uint8.from_address(a).value


GC = L["preheader_gc_size"]
PTR_MASK = ~((1 << L["gchead_flag_bits"]) - 1) & 0xFFFFFFFFFFFFFFFF

# ---------------------------------------------------------------- objects
x = [1]
eq("ob_type", u64(id(x) + L["object_type"]), id(list))
eq("ob_refcnt", i64(id(x) + L["object_refcnt"]), sys.getrefcount(x) - 1)
t = tuple(range(3))
eq("ob_size", i64(id(t) + L["varobject_ob_size"]), 3)
eq("object.__basicsize__", object.__basicsize__, L["object_size"])
if L["immortal_rule"] == 1:
    eq("immortal None", u32(id(None) + L["object_refcnt"]), L["immortal_refcnt"] & 0xFFFFFFFF)
    ok("immortal rule: None", i32(id(None) + L["object_refcnt"]) < 0)
    ok("immortal rule: a list is not", i32(id(x) + L["object_refcnt"]) >= 0)
else:
    ok("no immortals: None has a count", 0 < i64(id(None) + L["object_refcnt"]) < 1 << 40)

# ------------------------------------------------------------------ types


class C:
    pass


class S:
    __slots__ = ("a",)


class Outer:
    class Inner:
        pass


for T in (int, list, dict, type, C, S, types.ModuleType):
    nm = T.__name__
    eq("tp_basicsize " + nm, i64(id(T) + L["type_tp_basicsize"]), T.__basicsize__)
    eq("tp_itemsize " + nm, i64(id(T) + L["type_tp_itemsize"]), T.__itemsize__)
    eq("tp_flags " + nm, u64(id(T) + L["type_tp_flags"]), T.__flags__)
    eq("tp_dictoffset " + nm, i64(id(T) + L["type_tp_dictoffset"]), T.__dictoffset__)
    eq("tp_weaklistoffset " + nm, i64(id(T) + L["type_tp_weaklistoffset"]), T.__weakrefoffset__)
    eq("tp_base " + nm, u64(id(T) + L["type_tp_base"]), id(T.__base__))
    tp_name = ctypes.string_at(u64(id(T) + L["type_tp_name"])).decode()
    eq("tp_name " + nm, tp_name.rsplit(".", 1)[-1], nm)
tp_dict = u64(id(C) + L["type_tp_dict"])
ok("tp_dict", any(id(r) == tp_dict and isinstance(r, dict) and "__module__" in r for r in gc.get_referents(C)),
   "0x%x is not C's namespace dict" % tp_dict)
eq("type.__basicsize__ = heap type", type.__basicsize__, L["heaptype_size"])
eq("ht_name", u64(id(Outer.Inner) + L["heaptype_ht_name"]), id(Outer.Inner.__name__))
eq("ht_qualname", u64(id(Outer.Inner) + L["heaptype_ht_qualname"]), id(Outer.Inner.__qualname__))


class K:
    def __init__(self):
        self.a = "memsnap-a"
        self.b = "memsnap-b"


k1 = K()
k2 = K()
kd = k2.__dict__
eq("ht_cached_keys = the instance dict's keys", u64(id(kd) + L["dict_ma_keys"]),
   u64(id(K) + L["heaptype_ht_cached_keys"]))
ok("split instance dict has values", u64(id(kd) + L["dict_ma_values"]) != 0)

bits = [
    ("heaptype", C, True), ("heaptype", int, False),
    ("have_gc", list, True), ("have_gc", int, False),
    ("long_subclass", bool, True), ("long_subclass", float, False),
    ("list_subclass", list, True), ("tuple_subclass", tuple, True),
    ("bytes_subclass", bytes, True), ("unicode_subclass", str, True),
    ("dict_subclass", dict, True), ("type_subclass", type, True), ("type_subclass", C, False),
    ("managed_dict", C, MINOR >= 11), ("managed_dict", S, False),
    ("managed_weakref", C, MINOR >= 12), ("managed_weakref", S, False),
    ("inline_values", C, MINOR >= 13), ("inline_values", S, False),
]
for flag, T, want in bits:
    eq("Py_TPFLAGS_%s on %s" % (flag.upper(), T.__name__), bool(T.__flags__ & L["tpflags_" + flag]), want)

# What sys.getsizeof adds to __sizeof__: the PyGC_Head and the managed pre-header.
for T in (C, S, K):
    pre = GC + (L["preheader_managed_size"] if T.__flags__ & L["tpflags_preheader"] else 0)
    o = T()
    eq("pre-header of %s" % T.__name__, sys.getsizeof(o) - o.__sizeof__(), pre)
    eq("getsizeof %s = basicsize + pre-header" % T.__name__, sys.getsizeof(o), T.__basicsize__ + pre)

# Managed dicts: where the dict and the values live, before and after
# __dict__ is materialised.
kind = L["managed_dict_kind"]
val = "memsnap-value"
c = C()
c.x = val
if kind == 0:
    d = c.__dict__
    eq("__dict__ at tp_dictoffset", u64(id(c) + C.__dictoffset__), id(d))
else:
    slot = id(c) - L["managed_dict_before"]
    if kind == 1:  # 3.11
        values = u64(id(c) - L["managed_values_before"])
        eq("3.11 dict slot empty before __dict__", u64(slot), 0)
        ok("3.11 values pointer set", values != 0)
    elif kind == 2:  # 3.12
        tagged = u64(slot)
        eq("3.12 slot tagged as values", tagged & 1, 1)
        values = tagged + 1
    else:  # 3.13
        eq("3.13 dict slot empty before __dict__", u64(slot), 0)
        values = id(c) + C.__basicsize__
        eq("3.13 inline values valid", u8(values + 3), 1)
    eq("first value", u64(values + L["dictvalues_values"]), id(val))
    d = c.__dict__
    eq("dict slot after __dict__", u64(slot), id(d))
    eq("materialised dict uses the values", u64(id(d) + L["dict_ma_values"]), values)
    if kind == 1:
        eq("3.11 values pointer cleared", u64(id(c) - L["managed_values_before"]), 0)
w = weakref.ref(c)
if L["managed_weakref_before"] is not None:
    eq("managed weakref list", u64(id(c) - L["managed_weakref_before"]), id(w))
else:
    eq("weakref list at tp_weaklistoffset", u64(id(c) + C.__weakrefoffset__), id(w))

# -------------------------------------------------- runtime, interpreter
rt = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))
head = u64(rt + L["runtime_interpreters_head"])
interp = u64(rt + L["runtime_interpreters_main"])
ok("interpreters.main", interp != 0)
eq("interpreters.head = main", head, interp)
eq("_finalizing", u64(rt + L["runtime_finalizing"]), 0)
eq("interp->next", u64(interp + L["interp_next"]), 0)
eq("interp->id", i64(interp + L["interp_id"]), 0)
eq("interp->modules", u64(interp + L["interp_modules"]), id(sys.modules))
eq("interp->sysdict", u64(interp + L["interp_sysdict"]), id(sys.__dict__))
eq("interp->builtins", u64(interp + L["interp_builtins"]), id(builtins.__dict__))

gcs = rt + L["runtime_gc"] if L["gc_where"] == 0 else interp + L["interp_gc"]
gens = gcs + L["gc_generations"]
gsz = L["gc_generation_size"]
eq("NUM_GENERATIONS", len(gc.get_threshold()), L["gc_num_generations"])
old = gc.get_threshold()
gc.set_threshold(1234, 56, 78)
for i, want in enumerate((1234, 56, 78)):
    eq("generation %d threshold" % i, i32(gens + i * gsz + L["gc_generation_threshold"]), want)
gc.set_threshold(*old)
eq("generation0", u64(gcs + L["gc_generation0"]), gens + L["gc_generation_head"])
gc.disable()
eq("gc.enabled 0", i32(gcs + L["gc_enabled"]), 0)
gc.enable()
eq("gc.enabled 1", i32(gcs + L["gc_enabled"]), 1)
eq("collecting 0 outside a collection", i32(gcs + L["gc_collecting"]), 0)
seen = []


def during(phase, info):
    if phase == "start":
        seen.append(i32(gcs + L["gc_collecting"]))


gc.callbacks.append(during)
gc.collect()
gc.callbacks.remove(during)
eq("collecting 1 during a collection", seen[:1], [1])

# The permanent generation: frozen objects, walked through PyGC_Head links.
marker = ["memsnap-frozen"]
gc.collect()
gc.freeze()
frozen = gc.get_freeze_count()
perm = gcs + L["gc_permanent"] + L["gc_generation_head"]
node, prev, count, symmetric, found = u64(perm + L["gchead_next"]) & PTR_MASK, perm, 0, True, False
while node != perm and count <= frozen + 10:
    if u64(node + L["gchead_prev"]) & PTR_MASK != prev:
        symmetric = False
    found = found or node + GC == id(marker)
    prev, node = node, u64(node + L["gchead_next"]) & PTR_MASK
    count += 1
gc.unfreeze()
eq("permanent generation length = gc.get_freeze_count()", count, frozen)
ok("permanent generation links are symmetric", symmetric)
ok("a frozen list is in the permanent generation", found)
tracked = []
eq("tracked object has _gc_next", u64(id(tracked) - GC + L["gchead_next"]) != 0, gc.is_tracked(tracked))
ut = tuple(range(2))
gc.collect()
ok("untracked tuple: _gc_next == 0", not gc.is_tracked(ut) and u64(id(ut) - GC + L["gchead_next"]) == 0)

# ------------------------------------------------------------- containers
t = (object(), "x", 3.5)
for i in range(3):
    eq("tuple ob_item[%d]" % i, u64(id(t) + L["tuple_ob_item"] + 8 * i), id(t[i]))
eq("getsizeof(())", sys.getsizeof(()), L["tuple_ob_item"] + GC)
eq("getsizeof 3-tuple", sys.getsizeof(t), L["tuple_ob_item"] + 3 * 8 + GC)
eq("tuple basic + item", tuple.__basicsize__ + tuple.__itemsize__, L["tuple_size"])

lst = [object() for _ in range(5)]
lst.append(1)
items = u64(id(lst) + L["list_ob_item"])
eq("list ob_size", i64(id(lst) + L["varobject_ob_size"]), len(lst))
eq("list ob_item[5]", u64(items + 8 * 5), id(lst[5]))
alloc = i64(id(lst) + L["list_allocated"])
ok("list allocated >= len", alloc >= len(lst))
eq("getsizeof list", sys.getsizeof(lst), L["list_size"] + 8 * alloc + GC)
eq("list.__basicsize__", list.__basicsize__, L["list_size"])


def dict_check(label, d, unicode_keys):
    keys = u64(id(d) + L["dict_ma_keys"])
    eq(label + " ma_used", i64(id(d) + L["dict_ma_used"]), len(d))
    eq(label + " dk_refcnt", i64(keys + L["dictkeys_dk_refcnt"]), 1)
    if L["dictkeys_dk_size"] is not None:
        size = i64(keys + L["dictkeys_dk_size"])
        ixbytes = size  # 1-byte indices up to 128 slots
        esize = L["dict_entry_size"]
        keyat = 8
    else:
        size = 1 << u8(keys + L["dictkeys_dk_log2_size"])
        ixbytes = 1 << u8(keys + L["dictkeys_dk_log2_index_bytes"])
        eq(label + " dk_kind", u8(keys + L["dictkeys_dk_kind"]), 1 if unicode_keys else 0)
        esize = L["dict_unicode_entry_size"] if unicode_keys else L["dict_entry_size"]
        keyat = 0 if unicode_keys else 8
    usable = (2 * size) // 3
    nentries = i64(keys + L["dictkeys_dk_nentries"])
    eq(label + " dk_nentries", nentries, len(d))
    eq(label + " dk_usable + dk_nentries", i64(keys + L["dictkeys_dk_usable"]) + nentries, usable)
    entries = keys + L["dictkeys_dk_indices"] + ixbytes
    got = [u64(entries + i * esize + keyat) for i in range(nentries)]
    eq(label + " entry keys", got, [id(key) for key in d])
    eq(label + " getsizeof", sys.getsizeof(d),
       L["dict_size"] + GC + L["dictkeys_size"] + ixbytes + usable * esize)


dict_check("str-keyed dict", {"k%d" % i: i for i in range(5)}, True)
dict_check("int-keyed dict", {i * 1000: i for i in range(5)}, False)
eq("dict.__basicsize__", dict.__basicsize__, L["dict_size"])

m = types.ModuleType("memsnap_probe")
eq("md_dict", u64(id(m) + L["module_md_dict"]), id(m.__dict__))
eq("md_name", u64(id(m) + L["module_md_name"]), id(m.__dict__["__name__"]))
eq("sys md_dict", u64(id(sys) + L["module_md_dict"]), id(sys.__dict__))
eq("module.__basicsize__", types.ModuleType.__basicsize__, L["module_size"])

small = {"a", "b"}
eq("small set table = smalltable", u64(id(small) + L["set_table"]), id(small) + L["set_smalltable"])
eq("small set mask", i64(id(small) + L["set_mask"]), 7)
eq("small set used", i64(id(small) + L["set_used"]), 2)
eq("getsizeof small set", sys.getsizeof(small), L["set_size"] + GC)
big = set(range(100))
mask = i64(id(big) + L["set_mask"])
table = u64(id(big) + L["set_table"])
ok("big set has its own table", table != id(big) + L["set_smalltable"])
ok("big set fill >= used", i64(id(big) + L["set_fill"]) >= i64(id(big) + L["set_used"]) == 100)
eq("big set getsizeof", sys.getsizeof(big), L["set_size"] + GC + L["setentry_size"] * (mask + 1))
keys = set(u64(table + i * L["setentry_size"]) for i in range(mask + 1)) - {0}
eq("big set entries", keys, set(id(v) for v in big))
eq("set.__basicsize__", set.__basicsize__, L["set_size"])

# ------------------------------------------------- str, bytes, int, float


def state(s):
    return u32(id(s) + L["unicode_state"])


def kind_of(s):
    return (state(s) >> L["unicode_state_kind_shift"]) & 7


a = "".join(["mem", "snap"])
eq("ascii length", i64(id(a) + L["unicode_length"]), 7)
eq("ascii kind", kind_of(a), 1)
eq("ascii compact bit", state(a) >> L["unicode_state_compact_bit"] & 1, 1)
eq("ascii ascii bit", state(a) >> L["unicode_state_ascii_bit"] & 1, 1)
eq("ascii data", ctypes.string_at(id(a) + L["unicode_ascii_size"], 7), b"memsnap")
eq("getsizeof ascii", sys.getsizeof(a), L["unicode_ascii_size"] + 7 + 1)
for text, k, codec in (("".join(["m\xe9", "m"]), 1, "latin-1"), ("".join(["\u20ac", "x"]), 2, "utf-16-le"),
                       ("".join(["\U0001f600", "y"]), 4, "utf-32-le")):
    eq("kind %d" % k, kind_of(text), k)
    eq("kind %d not ascii" % k, state(text) >> L["unicode_state_ascii_bit"] & 1, 0)
    eq("kind %d data" % k, ctypes.string_at(id(text) + L["unicode_compact_size"], len(text) * k),
       text.encode(codec))
    eq("getsizeof kind %d" % k, sys.getsizeof(text), L["unicode_compact_size"] + (len(text) + 1) * k)
eq("str.__basicsize__", str.__basicsize__, L["unicode_size"])

b = bytes(range(65, 70)) + b"xyz"
eq("bytes ob_size", i64(id(b) + L["varobject_ob_size"]), len(b))
eq("bytes data", ctypes.string_at(id(b) + L["bytes_ob_sval"], len(b)), b)
eq("getsizeof bytes", sys.getsizeof(b), L["bytes_ob_sval"] + len(b) + 1)
eq("bytes.__basicsize__", bytes.__basicsize__, L["bytes_ob_sval"] + 1)
ba = bytearray(b"memsnap")
ba.extend(b"-bytearray")
alloc = i64(id(ba) + L["bytearray_ob_alloc"])
ok("bytearray ob_alloc > len", alloc > len(ba))
eq("bytearray data", ctypes.string_at(u64(id(ba) + L["bytearray_ob_start"]), len(ba)), bytes(ba))
eq("bytearray ob_start = ob_bytes", u64(id(ba) + L["bytearray_ob_start"]), u64(id(ba) + L["bytearray_ob_bytes"]))
eq("getsizeof bytearray", sys.getsizeof(ba), L["bytearray_size"] + alloc)
eq("bytearray.__basicsize__", bytearray.__basicsize__, L["bytearray_size"])

eq("sizeof digit", sys.int_info.sizeof_digit, L["long_digit_size"])
eq("bits per digit", sys.int_info.bits_per_digit, L["long_shift"])
eq("int.__basicsize__", int.__basicsize__, L["long_ob_digit"])
eq("int.__itemsize__", int.__itemsize__, L["long_digit_size"])
big_int = (1 << 100) + 12345
neg = -big_int
shift = L["long_shift"]
nd = (big_int.bit_length() + shift - 1) // shift
if L["long_lv_tag"] is None:
    eq("int ob_size", i64(id(big_int) + L["varobject_ob_size"]), nd)
    eq("negative int ob_size", i64(id(neg) + L["varobject_ob_size"]), -nd)
else:
    tag = u64(id(big_int) + L["long_lv_tag"])
    eq("lv_tag digits", tag >> L["long_non_size_bits"], nd)
    eq("lv_tag sign +", tag & 3, 0)
    eq("lv_tag sign -", u64(id(neg) + L["long_lv_tag"]) & 3, 2)
for i in range(nd):
    eq("digit %d" % i, u32(id(big_int) + L["long_ob_digit"] + 4 * i), (big_int >> (shift * i)) & ((1 << shift) - 1))
eq("getsizeof int", sys.getsizeof(big_int), L["long_ob_digit"] + nd * L["long_digit_size"])

fl = float("1.25") * 3
eq("ob_fval", ctypes.c_double.from_address(id(fl) + L["float_ob_fval"]).value, fl)
eq("getsizeof float", sys.getsizeof(fl), L["float_size"])


def probe_function():
    pass


co = probe_function.__code__
eq("co_name", u64(id(co) + L["code_co_name"]), id(co.co_name))
eq("co_filename", u64(id(co) + L["code_co_filename"]), id(co.co_filename))
if L["code_co_qualname"] is not None:
    eq("co_qualname", u64(id(co) + L["code_co_qualname"]), id(co.co_qualname))

# ------------------------------------------------------------- pymalloc


def debugmallocstats():
    """sys._debugmallocstats() writes to the C stderr: catch it in a file."""
    fd, path = tempfile.mkstemp()
    saved = os.dup(2)
    sys.stderr.flush()
    os.dup2(fd, 2)
    try:
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    os.close(fd)
    with open(path) as f:
        text = f.read()
    os.unlink(path)
    return text


def narenas_of(text):
    for line in text.splitlines():
        if line.startswith("# arenas allocated current"):
            return int(line.split()[-1].replace(",", ""))
    return None


stats = debugmallocstats()
pools_used = 0
for line in stats.splitlines():
    p = line.split()
    if line.startswith("Small block threshold"):
        eq("SMALL_REQUEST_THRESHOLD", int(p[4].rstrip(",")), L["pymalloc_small_request_threshold"])
        eq("size classes", int(p[6]), L["pymalloc_size_classes"])
    elif len(p) == 5 and all(v.isdigit() for v in p):
        cls, size, npools, inuse, avail = map(int, p)
        eq("class %d size" % cls, size, (cls + 1) * L["pymalloc_alignment"])
        eq("class %d blocks = pools * (POOL_SIZE - header) // size" % cls, inuse + avail,
           npools * ((L["pool_size"] - L["pool_header_size"]) // size))
        pools_used += npools
    elif "bytes/arena" in line:  # "N arenas * SIZE bytes/arena = ..."
        eq("ARENA_SIZE", int(p[3]), L["arena_size"])
    elif "unused pools *" in line:  # "N unused pools * SIZE bytes = ..."
        eq("POOL_SIZE", int(p[4]), L["pool_size"])
    elif line.startswith("# bytes lost to pool headers"):
        eq("pool header bytes", int(p[-1].replace(",", "")), pools_used * L["pool_header_size"])
ok("sys._debugmallocstats parsed", pools_used > 0 and narenas_of(stats), stats[:200])


def walk_arenas(where, state):
    """Every arena and used pool, through the table's offsets. `state`
    reads (arenas, maxarenas, narenas_currently_allocated). The reads
    themselves allocate, and a new arena moves the arena table: retry until
    the state is the same before and after a walk and sys._debugmallocstats."""
    A, P = L["arena_object_size"], L["pool_size"]
    for attempt in range(10):
        before = state()
        arenas, maxarenas, ncur = before
        nstats = narenas_of(debugmallocstats())
        table = ctypes.string_at(arenas, maxarenas * A)
        used, pools, bad = 0, 0, []
        for i in range(maxarenas):
            ao = table[i * A:(i + 1) * A]
            addr = int.from_bytes(ao[L["arena_address"]:L["arena_address"] + 8], "little")
            if not addr:
                continue
            used += 1
            total = int.from_bytes(ao[L["arena_ntotalpools"]:L["arena_ntotalpools"] + 4], "little")
            nfree = int.from_bytes(ao[L["arena_nfreepools"]:L["arena_nfreepools"] + 4], "little")
            limit = int.from_bytes(ao[L["arena_pool_address"]:L["arena_pool_address"] + 8], "little")
            want_total = L["arena_size"] // P - (1 if addr % P else 0)
            if total != want_total or nfree > total:
                bad.append("arena %d: %d pools (want %d), %d free" % (i, total, want_total, nfree))
            for pool in range((addr + P - 1) // P * P, limit, P):
                h = ctypes.string_at(pool, L["pool_header_size"])

                def f32(off):
                    return int.from_bytes(h[off:off + 4], "little")
                count = f32(L["pool_ref_count"])
                if not count:
                    continue
                pools += 1
                szidx = f32(L["pool_szidx"])
                size = (szidx + 1) * L["pymalloc_alignment"]
                if (f32(L["pool_arenaindex"]) != i or szidx >= L["pymalloc_size_classes"]
                        or f32(L["pool_maxnextoffset"]) != P - size
                        or count > (P - L["pool_header_size"]) // size or f32(L["pool_nextoffset"]) > P):
                    bad.append("pool 0x%x in arena %d" % (pool, i))
        if state() == before and nstats == ncur:
            break
        print("info %s: the heap moved during the walk (attempt %d), again" % (where, attempt + 1))
    eq(where + ": arenas with an address = narenas_currently_allocated", used, ncur)
    eq(where + ": narenas_currently_allocated = sys._debugmallocstats()", ncur, nstats)
    ok(where + ": %d used pools consistent" % pools, pools > 0 and not bad, "; ".join(bad[:5]))


if L["obmalloc_where"] != 0:
    st = interp + L["interp_obmalloc"]
    if L["obmalloc_where"] == 2:
        st = u64(st)
    walk_arenas("interp->obmalloc", lambda: (u64(st + L["obmalloc_arenas"]), u32(st + L["obmalloc_maxarenas"]),
                                             u64(st + L["obmalloc_narenas_currently_allocated"])))
elif SYM:
    mapped = any(LIB == line.split()[-1] for line in open("/proc/self/maps") if "/" in line)
    ok("the symbols come from the mapped libpython", mapped, "%s is not mapped" % LIB)
    bias = rt - SYM["_PyRuntime"]
    walk_arenas("obmalloc statics", lambda: (u64(SYM["arenas"] + bias), u32(SYM["maxarenas"] + bias),
                                             u64(SYM["narenas_currently_allocated"] + bias)))
else:
    pass  # the C side reports the SKIP

print("checks %d failed %d" % (n_checks, n_failed))
sys.exit(1 if n_failed else 0)
