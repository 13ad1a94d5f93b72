/*
 * gen_layout.c - prints one py_layout initializer (capture/py_layout.h)
 * for the CPython whose headers it is compiled against.
 *
 * Compiled once per installed version by generate.sh:
 *   cc -DPy_BUILD_CORE -isystem <prefix>/include/python3.X
 *      -isystem <prefix>/include/python3.X/internal gen_layout.c
 * Every number comes from offsetof/sizeof/macros of the version's own
 * headers, or from calling the headers' own inline functions on fake
 * objects (pre-header sizes, managed-dict slots, the immortality test,
 * str state bits). Structures private to a .c file cannot be included; for
 * those this file declares the same structure under the same name, per
 * version, with the source file it mirrors:
 *   struct pool_header, struct arena_object, usedpools' size and the
 *     pymalloc geometry: Objects/obmalloc.c, 3.8-3.11 (3.12+: the real
 *     ones from internal/pycore_obmalloc.h);
 *   struct _dictkeysobject, PyDictKeyEntry: Objects/dict-common.h,
 *     3.8-3.10 (3.11+: internal/pycore_dict.h);
 *   PyModuleObject: Objects/moduleobject.c, 3.8-3.9 (3.10+:
 *     internal/pycore_moduleobject.h).
 * They are not trusted: `gen_layout --dwarf` prints, for every member
 * measured with offsetof/sizeof (mirrors included), a gdb expression that
 * gives the same number from the DWARF of the version's unstripped
 * libpython; `generate.sh --check` evaluates them (capture_pylayout_drift).
 * The geometry constants, which DWARF does not hold, are checked against
 * sys._debugmallocstats() by the capture_pylayout_runtime test.
 *
 * Output (stdout): without arguments, a block between "BEGIN python3.X" and
 * "END python3.X" comment lines that generate.sh pastes into
 * py_layout_table.c; with --dwarf, lines "member<TAB>value<TAB>gdb
 * expression". Exit 1 when a self-check of the headers' behaviour fails or
 * on a write error, 2 on a usage error.
 */
#include <Python.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03080000 || PY_VERSION_HEX >= 0x030e0000
#error "gen_layout.c knows CPython 3.8 to 3.13"
#endif
#if SIZEOF_VOID_P != 8
#error "gen_layout.c describes 64-bit builds only"
#endif
#if defined(Py_GIL_DISABLED) || defined(Py_DEBUG) || defined(Py_TRACE_REFS)
#error "gen_layout.c describes default builds (not free-threaded, not debug)"
#endif

#if PY_VERSION_HEX < 0x03090000
#include "pycore_pystate.h" /* _PyRuntimeState, struct _is; gc state in pycore_pymem.h */
#else
#include "pycore_interp.h"
#include "pycore_runtime.h"
#endif
#if PY_VERSION_HEX >= 0x030a0000
#include "pycore_moduleobject.h" /* PyModuleObject */
#endif
#if PY_VERSION_HEX >= 0x030b0000
#include "pycore_dict.h"   /* struct _dictkeysobject, PyDictKeyEntry, struct _dictvalues */
#include "pycore_object.h" /* _PyType_PreHeaderSize, managed dict pointers */
#endif
#if PY_VERSION_HEX >= 0x030c0000
#include "pycore_obmalloc.h" /* pool_header, arena_object, _obmalloc_state */
#endif

#define ABSENT UINT32_MAX

/* ------------------------------------------------ private structures */

#if PY_VERSION_HEX < 0x030a0000
/* Mirrors PyModuleObject of Objects/moduleobject.c in v3.8.18 and v3.9.18
 * (identical in both). */
typedef struct {
    PyObject ob_base;
    PyObject *md_dict;
    struct PyModuleDef *md_def;
    void *md_state;
    PyObject *md_weaklist;
    PyObject *md_name;
} PyModuleObject;
#endif

#if PY_VERSION_HEX < 0x030b0000
/* Mirrors PyDictKeyEntry and struct _dictkeysobject (declared but not
 * defined by cpython/dictobject.h) of Objects/dict-common.h in v3.8.18,
 * v3.9.18 and v3.10.13 (identical in the three). */
typedef struct {
    Py_hash_t me_hash;
    PyObject *me_key;
    PyObject *me_value;
} PyDictKeyEntry;

struct _dictkeysobject {
    Py_ssize_t dk_refcnt;
    Py_ssize_t dk_size;
    void *dk_lookup; /* dict_lookup_func */
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
};
#endif

#if PY_VERSION_HEX < 0x030c0000
/* Mirrors struct pool_header and struct arena_object of Objects/obmalloc.c
 * in v3.8.18, v3.9.18, v3.10.13 and v3.11.7 (identical in the four), and
 * its geometry: 3.8/3.9 ARENA_SIZE (256 << 10) and POOL_SIZE
 * SYSTEM_PAGE_SIZE (1 << 12); 3.10/3.11 on 64-bit USE_LARGE_ARENAS
 * (ARENA_BITS 20) and USE_LARGE_POOLS (POOL_BITS 14); ALIGNMENT 16 on
 * 64-bit, SMALL_REQUEST_THRESHOLD 512, NB_SMALL_SIZE_CLASSES
 * threshold / alignment, usedpools[2 * ((NB_SMALL_SIZE_CLASSES + 7) / 8) * 8]. */
typedef uint8_t mirror_block;

struct pool_header {
    union {
        mirror_block *_padding;
        unsigned int count;
    } ref;
    mirror_block *freeblock;
    struct pool_header *nextpool;
    struct pool_header *prevpool;
    unsigned int arenaindex;
    unsigned int szidx;
    unsigned int nextoffset;
    unsigned int maxnextoffset;
};

struct arena_object {
    uintptr_t address;
    mirror_block *pool_address;
    unsigned int nfreepools;
    unsigned int ntotalpools;
    struct pool_header *freepools;
    struct arena_object *nextarena;
    struct arena_object *prevarena;
};

#if PY_VERSION_HEX < 0x030a0000
#define G_ARENA_SIZE (256u << 10)
#define G_POOL_SIZE (1u << 12)
#else
#define G_ARENA_SIZE (1u << 20)
#define G_POOL_SIZE (1u << 14)
#endif
#define G_ALIGNMENT 16u
#define G_SMALL_REQUEST_THRESHOLD 512u
#define G_SIZE_CLASSES (G_SMALL_REQUEST_THRESHOLD / G_ALIGNMENT)
#define G_USEDPOOLS (2 * ((G_SIZE_CLASSES + 7) / 8) * 8)
#else
#define G_ARENA_SIZE ARENA_SIZE
#define G_POOL_SIZE POOL_SIZE
#define G_ALIGNMENT ALIGNMENT
#define G_SMALL_REQUEST_THRESHOLD SMALL_REQUEST_THRESHOLD
#define G_SIZE_CLASSES NB_SMALL_SIZE_CLASSES
#define G_USEDPOOLS OBMALLOC_USED_POOLS_SIZE
#endif

/* ------------------------------------------------------------ output */

static int dwarf_mode; /* --dwarf: print gdb expressions instead of the entry */
static int failed;     /* a self-check failed: exit 1 after printing */

/* A member whose value DWARF cannot give (macros, derived values). */
static void field(const char *name, unsigned long v)
{
    if (dwarf_mode) return;
    if (v == ABSENT)
        printf("        .%s = PY_LAYOUT_ABSENT,\n", name);
    else
        printf("        .%s = %lu,\n", name, v);
}

/* A member given by offsetof/sizeof: also a gdb expression for --dwarf. */
static void dfield(const char *name, unsigned long v, const char *gdb_expr)
{
    if (dwarf_mode)
        printf("%s\t%lu\t%s\n", name, v, gdb_expr);
    else
        field(name, v);
}

static void text(const char *name, const char *value)
{
    if (!dwarf_mode) printf("        .%s = %s,\n", name, value);
}

/* A fact of the headers' own behaviour that the table's reading of them
 * relies on; a failure means gen_layout.c must be revisited. */
static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "gen_layout (python %s): self-check failed: %s\n", PY_VERSION, what);
        failed = 1;
    }
}

#define OFF(name, T, member)                                                                                 \
    dfield(#name, (unsigned long)offsetof(T, member), "(long)&((" #T " *)0)->" #member)
#define SIZE(name, T) dfield(#name, (unsigned long)sizeof(T), "sizeof(" #T ")")
#define NONE(name) field(#name, ABSENT)

#if PY_VERSION_HEX >= 0x030d0000
static unsigned n_checks;

/* One _Py_DebugOffsets comparison: `dbg` is the member's offset in
 * _Py_DebugOffsets, `member` the py_layout member holding the same value. */
static void check(const char *name, size_t dbg, const char *member)
{
    if (!dwarf_mode)
        printf("            { \"%s\", \"%s\", %zu, offsetof(py_layout, %s) },\n", name, member, dbg, member);
    n_checks++;
}
#define DBG(member) offsetof(_Py_DebugOffsets, member)
#endif

/* Position of the only run of set bits in `w` (a bit-field set to all ones). */
static unsigned lowest_bit(uint32_t w)
{
    unsigned n = 0;
    if (!w) return ABSENT;
    while (!(w & 1u)) {
        w >>= 1;
        n++;
    }
    return n;
}

static uint32_t unicode_state_word(const PyASCIIObject *a)
{
    uint32_t w;
    expect(sizeof a->state == 4, "PyASCIIObject.state is a 32-bit word");
    memcpy(&w, (const char *)a + offsetof(PyASCIIObject, state), sizeof w);
    return w;
}

static void unicode_state_bits(void)
{
    PyASCIIObject a;
    memset(&a, 0, sizeof a);
    a.state.kind = 7;
    uint32_t kind = unicode_state_word(&a);
    memset(&a, 0, sizeof a);
    a.state.compact = 1;
    uint32_t compact = unicode_state_word(&a);
    memset(&a, 0, sizeof a);
    a.state.ascii = 1;
    uint32_t ascii = unicode_state_word(&a);
    expect(kind == 7u << lowest_bit(kind), "state.kind is 3 contiguous bits");
    field("unicode_state_kind_shift", lowest_bit(kind));
    field("unicode_state_compact_bit", lowest_bit(compact));
    field("unicode_state_ascii_bit", lowest_bit(ascii));
}

#if PY_VERSION_HEX >= 0x030b0000
static PyTypeObject fake_type;

static size_t preheader_of(unsigned long flags)
{
    memset(&fake_type, 0, sizeof fake_type);
    fake_type.tp_flags = flags;
    return _PyType_PreHeaderSize(&fake_type);
}
#endif

/* What lies before (and, 3.13, after) an object: from the headers' own
 * inline functions applied to a fake object of a fake type. */
static void managed_dict_facts(void)
{
#if PY_VERSION_HEX >= 0x030b0000
    static union {
        PyObject o;
        char bytes[256];
    } mem[2];
    PyObject *obj = (PyObject *)(mem[0].bytes + 128); /* room on both sides */
    size_t gc = preheader_of(Py_TPFLAGS_HAVE_GC);
    expect(gc == sizeof(PyGC_Head), "_PyType_PreHeaderSize(HAVE_GC) == sizeof(PyGC_Head)");
    expect(preheader_of(0) == 0, "_PyType_PreHeaderSize(0) == 0");
    field("preheader_gc_size", gc);
#if PY_VERSION_HEX >= 0x030c0000
    unsigned long mask = Py_TPFLAGS_PREHEADER;
#else
    unsigned long mask = Py_TPFLAGS_MANAGED_DICT;
#endif
    size_t managed = preheader_of(mask);
    for (unsigned bit = 0; bit < 32; bit++) {
        unsigned long f = 1ul << bit;
        size_t got = preheader_of(f);
        size_t want = (mask & f) ? managed : f == Py_TPFLAGS_HAVE_GC ? gc : 0;
        expect(got == want, "only HAVE_GC and tpflags_preheader bits add a pre-header");
    }
    field("preheader_managed_size", managed);

    memset(&fake_type, 0, sizeof fake_type);
    fake_type.tp_flags = Py_TPFLAGS_HAVE_GC | mask;
    fake_type.tp_basicsize = sizeof(PyObject);
    Py_SET_TYPE(obj, &fake_type);
#if PY_VERSION_HEX >= 0x030d0000
    fake_type.tp_flags |= Py_TPFLAGS_INLINE_VALUES;
    text("managed_dict_kind", "PY_MANAGED_DICT_INLINE");
    field("managed_dict_before", (unsigned long)((char *)obj - (char *)_PyObject_ManagedDictPointer(obj)));
    expect((char *)obj - (char *)_PyObject_ManagedDictPointer(obj) == -MANAGED_DICT_OFFSET,
           "MANAGED_DICT_OFFSET agrees with _PyObject_ManagedDictPointer");
    expect((char *)_PyObject_InlineValues(obj) - (char *)obj == fake_type.tp_basicsize,
           "inline values start at tp_basicsize");
    field("managed_values_before", ABSENT);
    field("managed_weakref_before", (unsigned long)-MANAGED_WEAKREF_OFFSET);
#elif PY_VERSION_HEX >= 0x030c0000
    text("managed_dict_kind", "PY_MANAGED_DICT_TAGGED");
    field("managed_dict_before", (unsigned long)((char *)obj - (char *)_PyObject_DictOrValuesPointer(obj)));
    PyDictOrValues dv;
    dv.values = (char *)mem[1].bytes + 64 - 1; /* how _PyDictOrValues_SetValues stores it */
    expect(_PyDictOrValues_IsValues(dv) && (char *)_PyDictOrValues_GetValues(dv) == mem[1].bytes + 64,
           "a values pointer is stored minus 1 and recognised by bit 0");
    dv.dict = &mem[1].o;
    expect(!_PyDictOrValues_IsValues(dv), "a dict pointer has bit 0 clear");
    field("managed_values_before", ABSENT);
    field("managed_weakref_before", (unsigned long)-MANAGED_WEAKREF_OFFSET);
#else
    text("managed_dict_kind", "PY_MANAGED_DICT_SPLIT");
    field("managed_dict_before", (unsigned long)((char *)obj - (char *)_PyObject_ManagedDictPointer(obj)));
    field("managed_values_before", (unsigned long)((char *)obj - (char *)_PyObject_ValuesPointer(obj)));
    field("managed_weakref_before", ABSENT);
#endif
#else
    field("preheader_gc_size", sizeof(PyGC_Head));
    field("preheader_managed_size", 0);
    text("managed_dict_kind", "PY_MANAGED_DICT_NONE");
    NONE(managed_dict_before);
    NONE(managed_values_before);
    NONE(managed_weakref_before);
#endif
}

static void immortality(void)
{
#if PY_VERSION_HEX >= 0x030c0000
    PyObject o;
    memset(&o, 0, sizeof o);
    static const struct {
        uint64_t refcnt;
        int immortal;
    } cases[] = {{1, 0},           {0x7fffffffu, 0}, {0x80000000u, 1},
                 {0xffffffffu, 1}, {1ull << 32, 0},  {(1ull << 32) | 0x80000000u, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o.ob_refcnt = (Py_ssize_t)cases[i].refcnt;
        expect(!!_Py_IsImmortal(&o) == cases[i].immortal,
               "_Py_IsImmortal is (int32_t)(ob_refcnt & 0xffffffff) < 0");
    }
    text("immortal_rule", "PY_IMMORTAL_LOW32_NEGATIVE");
    if (!dwarf_mode) printf("        .immortal_refcnt = %lluu,\n", (unsigned long long)_Py_IMMORTAL_REFCNT);
#else
    text("immortal_rule", "PY_IMMORTAL_NONE");
    text("immortal_refcnt", "0");
#endif
}

int main(int argc, char **argv)
{
    unsigned minor = (PY_VERSION_HEX >> 16) & 0xff;

    if (argc == 2 && !strcmp(argv[1], "--dwarf"))
        dwarf_mode = 1;
    else if (argc != 1) {
        fprintf(stderr, "usage: %s [--dwarf]\n", argv[0]);
        return 2;
    }

    if (!dwarf_mode) {
        printf("    /* BEGIN python3.%u */\n", minor);
        printf("    {\n");
        printf("        .version = 0x%08x,\n", (unsigned)(PY_VERSION_HEX & 0xffff0000u));
        printf("        .source_version = 0x%08x,\n", (unsigned)PY_VERSION_HEX);
        printf("        .source = \"%s\",\n", PY_VERSION);
    }

    SIZE(object_size, PyObject);
    OFF(object_refcnt, PyObject, ob_refcnt);
    OFF(object_type, PyObject, ob_type);
    SIZE(varobject_size, PyVarObject);
    OFF(varobject_ob_size, PyVarObject, ob_size);
    immortality();

    SIZE(type_size, PyTypeObject);
    OFF(type_tp_name, PyTypeObject, tp_name);
    OFF(type_tp_basicsize, PyTypeObject, tp_basicsize);
    OFF(type_tp_itemsize, PyTypeObject, tp_itemsize);
    OFF(type_tp_flags, PyTypeObject, tp_flags);
    OFF(type_tp_weaklistoffset, PyTypeObject, tp_weaklistoffset);
    OFF(type_tp_base, PyTypeObject, tp_base);
    OFF(type_tp_dict, PyTypeObject, tp_dict);
    OFF(type_tp_dictoffset, PyTypeObject, tp_dictoffset);
    SIZE(heaptype_size, PyHeapTypeObject);
    OFF(heaptype_ht_name, PyHeapTypeObject, ht_name);
    OFF(heaptype_ht_qualname, PyHeapTypeObject, ht_qualname);
    OFF(heaptype_ht_cached_keys, PyHeapTypeObject, ht_cached_keys);
#if PY_VERSION_HEX >= 0x03090000
    OFF(heaptype_ht_module, PyHeapTypeObject, ht_module);
#else
    NONE(heaptype_ht_module);
#endif

#if PY_VERSION_HEX >= 0x030b0000
    field("tpflags_managed_dict", Py_TPFLAGS_MANAGED_DICT);
#else
    field("tpflags_managed_dict", 0);
#endif
#if PY_VERSION_HEX >= 0x030c0000
    field("tpflags_managed_weakref", Py_TPFLAGS_MANAGED_WEAKREF);
#else
    field("tpflags_managed_weakref", 0);
#endif
#if PY_VERSION_HEX >= 0x030d0000
    field("tpflags_inline_values", Py_TPFLAGS_INLINE_VALUES);
#else
    field("tpflags_inline_values", 0);
#endif
#if PY_VERSION_HEX >= 0x030c0000
    field("tpflags_preheader", Py_TPFLAGS_PREHEADER);
#elif PY_VERSION_HEX >= 0x030b0000
    field("tpflags_preheader", Py_TPFLAGS_MANAGED_DICT);
#else
    field("tpflags_preheader", 0);
#endif
    field("tpflags_heaptype", Py_TPFLAGS_HEAPTYPE);
    field("tpflags_have_gc", Py_TPFLAGS_HAVE_GC);
    field("tpflags_long_subclass", Py_TPFLAGS_LONG_SUBCLASS);
    field("tpflags_list_subclass", Py_TPFLAGS_LIST_SUBCLASS);
    field("tpflags_tuple_subclass", Py_TPFLAGS_TUPLE_SUBCLASS);
    field("tpflags_bytes_subclass", Py_TPFLAGS_BYTES_SUBCLASS);
    field("tpflags_unicode_subclass", Py_TPFLAGS_UNICODE_SUBCLASS);
    field("tpflags_dict_subclass", Py_TPFLAGS_DICT_SUBCLASS);
    field("tpflags_type_subclass", Py_TPFLAGS_TYPE_SUBCLASS);

    managed_dict_facts();

    SIZE(runtime_size, _PyRuntimeState);
#if PY_VERSION_HEX < 0x03090000
    OFF(runtime_finalizing, _PyRuntimeState, finalizing);
#else
    OFF(runtime_finalizing, _PyRuntimeState, _finalizing);
#endif
    OFF(runtime_interpreters_head, _PyRuntimeState, interpreters.head);
    OFF(runtime_interpreters_main, _PyRuntimeState, interpreters.main);
#if PY_VERSION_HEX < 0x03090000
    OFF(runtime_gc, _PyRuntimeState, gc);
#else
    NONE(runtime_gc);
#endif
    SIZE(interp_size, PyInterpreterState);
    OFF(interp_next, PyInterpreterState, next);
    OFF(interp_id, PyInterpreterState, id);
#if PY_VERSION_HEX >= 0x030c0000
    OFF(interp_modules, PyInterpreterState, imports.modules);
#else
    OFF(interp_modules, PyInterpreterState, modules);
#endif
    OFF(interp_sysdict, PyInterpreterState, sysdict);
    OFF(interp_builtins, PyInterpreterState, builtins);
#if PY_VERSION_HEX >= 0x03090000
    OFF(interp_gc, PyInterpreterState, gc);
    text("gc_where", "PY_GC_IN_INTERP");
#else
    NONE(interp_gc);
    text("gc_where", "PY_GC_IN_RUNTIME");
#endif

    SIZE(gc_state_size, struct _gc_runtime_state);
    OFF(gc_enabled, struct _gc_runtime_state, enabled);
    OFF(gc_generations, struct _gc_runtime_state, generations);
    field("gc_num_generations", NUM_GENERATIONS);
    OFF(gc_generation0, struct _gc_runtime_state, generation0);
    OFF(gc_permanent, struct _gc_runtime_state, permanent_generation);
    OFF(gc_collecting, struct _gc_runtime_state, collecting);
    SIZE(gc_generation_size, struct gc_generation);
    OFF(gc_generation_head, struct gc_generation, head);
    OFF(gc_generation_threshold, struct gc_generation, threshold);
    OFF(gc_generation_count, struct gc_generation, count);
    SIZE(gchead_size, PyGC_Head);
    OFF(gchead_next, PyGC_Head, _gc_next);
    OFF(gchead_prev, PyGC_Head, _gc_prev);
    field("gchead_flag_bits", _PyGC_PREV_SHIFT);

    SIZE(tuple_size, PyTupleObject);
    OFF(tuple_ob_item, PyTupleObject, ob_item);
    SIZE(list_size, PyListObject);
    OFF(list_ob_item, PyListObject, ob_item);
    OFF(list_allocated, PyListObject, allocated);

    SIZE(dict_size, PyDictObject);
    OFF(dict_ma_used, PyDictObject, ma_used);
    OFF(dict_ma_keys, PyDictObject, ma_keys);
    OFF(dict_ma_values, PyDictObject, ma_values);
    SIZE(dictkeys_size, struct _dictkeysobject);
    OFF(dictkeys_dk_refcnt, struct _dictkeysobject, dk_refcnt);
#if PY_VERSION_HEX < 0x030b0000
    OFF(dictkeys_dk_size, struct _dictkeysobject, dk_size);
    NONE(dictkeys_dk_log2_size);
    NONE(dictkeys_dk_log2_index_bytes);
    NONE(dictkeys_dk_kind);
#else
    NONE(dictkeys_dk_size);
    OFF(dictkeys_dk_log2_size, struct _dictkeysobject, dk_log2_size);
    OFF(dictkeys_dk_log2_index_bytes, struct _dictkeysobject, dk_log2_index_bytes);
    OFF(dictkeys_dk_kind, struct _dictkeysobject, dk_kind);
    expect(DICT_KEYS_GENERAL == 0 && DICT_KEYS_UNICODE == 1 && DICT_KEYS_SPLIT == 2,
           "dk_kind values 0 general, 1 unicode, 2 split");
#endif
    OFF(dictkeys_dk_usable, struct _dictkeysobject, dk_usable);
    OFF(dictkeys_dk_nentries, struct _dictkeysobject, dk_nentries);
    OFF(dictkeys_dk_indices, struct _dictkeysobject, dk_indices);
    SIZE(dict_entry_size, PyDictKeyEntry);
#if PY_VERSION_HEX >= 0x030b0000
    SIZE(dict_unicode_entry_size, PyDictUnicodeEntry);
    OFF(dictvalues_values, struct _dictvalues, values);
#else
    NONE(dict_unicode_entry_size);
    NONE(dictvalues_values);
#endif

    SIZE(module_size, PyModuleObject);
    OFF(module_md_dict, PyModuleObject, md_dict);
    OFF(module_md_name, PyModuleObject, md_name);

    SIZE(set_size, PySetObject);
    OFF(set_fill, PySetObject, fill);
    OFF(set_used, PySetObject, used);
    OFF(set_mask, PySetObject, mask);
    OFF(set_table, PySetObject, table);
    OFF(set_smalltable, PySetObject, smalltable);
    SIZE(setentry_size, setentry);

    SIZE(unicode_ascii_size, PyASCIIObject);
    SIZE(unicode_compact_size, PyCompactUnicodeObject);
    SIZE(unicode_size, PyUnicodeObject);
    OFF(unicode_length, PyASCIIObject, length);
    OFF(unicode_state, PyASCIIObject, state);
    unicode_state_bits();

    SIZE(bytes_size, PyBytesObject);
    OFF(bytes_ob_sval, PyBytesObject, ob_sval);
    SIZE(bytearray_size, PyByteArrayObject);
    OFF(bytearray_ob_alloc, PyByteArrayObject, ob_alloc);
    OFF(bytearray_ob_bytes, PyByteArrayObject, ob_bytes);
    OFF(bytearray_ob_start, PyByteArrayObject, ob_start);
    SIZE(long_size, PyLongObject);
#if PY_VERSION_HEX >= 0x030c0000
    OFF(long_lv_tag, PyLongObject, long_value.lv_tag);
    field("long_non_size_bits", _PyLong_NON_SIZE_BITS);
    OFF(long_ob_digit, PyLongObject, long_value.ob_digit);
#else
    NONE(long_lv_tag);
    NONE(long_non_size_bits);
    OFF(long_ob_digit, PyLongObject, ob_digit);
#endif
    SIZE(long_digit_size, digit);
    field("long_shift", PyLong_SHIFT);
    SIZE(float_size, PyFloatObject);
    OFF(float_ob_fval, PyFloatObject, ob_fval);

    SIZE(code_size, PyCodeObject);
    OFF(code_co_filename, PyCodeObject, co_filename);
    OFF(code_co_name, PyCodeObject, co_name);
#if PY_VERSION_HEX >= 0x030b0000
    OFF(code_co_qualname, PyCodeObject, co_qualname);
#else
    NONE(code_co_qualname);
#endif

    field("arena_size", G_ARENA_SIZE);
    field("pool_size", G_POOL_SIZE);
    field("pymalloc_alignment", G_ALIGNMENT);
    field("pymalloc_small_request_threshold", G_SMALL_REQUEST_THRESHOLD);
    field("pymalloc_size_classes", G_SIZE_CLASSES);
    SIZE(pool_header_size, struct pool_header);
    OFF(pool_ref_count, struct pool_header, ref.count);
    OFF(pool_freeblock, struct pool_header, freeblock);
    OFF(pool_nextpool, struct pool_header, nextpool);
    OFF(pool_prevpool, struct pool_header, prevpool);
    OFF(pool_arenaindex, struct pool_header, arenaindex);
    OFF(pool_szidx, struct pool_header, szidx);
    OFF(pool_nextoffset, struct pool_header, nextoffset);
    OFF(pool_maxnextoffset, struct pool_header, maxnextoffset);
    SIZE(arena_object_size, struct arena_object);
    OFF(arena_address, struct arena_object, address);
    OFF(arena_pool_address, struct arena_object, pool_address);
    OFF(arena_nfreepools, struct arena_object, nfreepools);
    OFF(arena_ntotalpools, struct arena_object, ntotalpools);
    OFF(arena_freepools, struct arena_object, freepools);
    OFF(arena_nextarena, struct arena_object, nextarena);
    OFF(arena_prevarena, struct arena_object, prevarena);

#if PY_VERSION_HEX >= 0x030c0000
#if PY_VERSION_HEX >= 0x030d0000
    text("obmalloc_where", "PY_OBMALLOC_POINTER");
#else
    text("obmalloc_where", "PY_OBMALLOC_EMBEDDED");
#endif
    dfield("obmalloc_usedpools_count", G_USEDPOOLS, "sizeof(((struct _obmalloc_state *)0)->pools.used) / 8");
    OFF(interp_obmalloc, PyInterpreterState, obmalloc);
    SIZE(obmalloc_size, struct _obmalloc_state);
    OFF(obmalloc_usedpools, struct _obmalloc_state, pools.used);
    OFF(obmalloc_arenas, struct _obmalloc_state, mgmt.arenas);
    OFF(obmalloc_maxarenas, struct _obmalloc_state, mgmt.maxarenas);
    OFF(obmalloc_unused_arena_objects, struct _obmalloc_state, mgmt.unused_arena_objects);
    OFF(obmalloc_usable_arenas, struct _obmalloc_state, mgmt.usable_arenas);
    OFF(obmalloc_narenas_currently_allocated, struct _obmalloc_state, mgmt.narenas_currently_allocated);
    OFF(obmalloc_ntimes_arena_allocated, struct _obmalloc_state, mgmt.ntimes_arena_allocated);
    OFF(obmalloc_narenas_highwater, struct _obmalloc_state, mgmt.narenas_highwater);
#else
    text("obmalloc_where", "PY_OBMALLOC_STATICS");
    dfield("obmalloc_usedpools_count", G_USEDPOOLS, "sizeof(usedpools) / sizeof(usedpools[0])");
    NONE(interp_obmalloc);
    NONE(obmalloc_size);
    NONE(obmalloc_usedpools);
    NONE(obmalloc_arenas);
    NONE(obmalloc_maxarenas);
    NONE(obmalloc_unused_arena_objects);
    NONE(obmalloc_usable_arenas);
    NONE(obmalloc_narenas_currently_allocated);
    NONE(obmalloc_ntimes_arena_allocated);
    NONE(obmalloc_narenas_highwater);
#endif

#if PY_VERSION_HEX >= 0x030d0000
    SIZE(debug_offsets_size, _Py_DebugOffsets);
    OFF(debug_cookie, _Py_DebugOffsets, cookie);
    OFF(debug_version, _Py_DebugOffsets, version);
    OFF(debug_free_threaded, _Py_DebugOffsets, free_threaded);
    if (!dwarf_mode) printf("        .debug_checks = {\n");
    /* Every _Py_DebugOffsets member whose value the table also holds; each
     * pairing is confirmed against the real _Py_DebugOffsets of libpython
     * by the capture_pylayout test. */
    check("runtime_state.size", DBG(runtime_state.size), "runtime_size");
    check("runtime_state.finalizing", DBG(runtime_state.finalizing), "runtime_finalizing");
    check("runtime_state.interpreters_head", DBG(runtime_state.interpreters_head),
          "runtime_interpreters_head");
    check("interpreter_state.size", DBG(interpreter_state.size), "interp_size");
    check("interpreter_state.id", DBG(interpreter_state.id), "interp_id");
    check("interpreter_state.next", DBG(interpreter_state.next), "interp_next");
    check("interpreter_state.gc", DBG(interpreter_state.gc), "interp_gc");
    check("interpreter_state.imports_modules", DBG(interpreter_state.imports_modules), "interp_modules");
    check("interpreter_state.sysdict", DBG(interpreter_state.sysdict), "interp_sysdict");
    check("interpreter_state.builtins", DBG(interpreter_state.builtins), "interp_builtins");
    check("code_object.size", DBG(code_object.size), "code_size");
    check("code_object.filename", DBG(code_object.filename), "code_co_filename");
    check("code_object.name", DBG(code_object.name), "code_co_name");
    check("code_object.qualname", DBG(code_object.qualname), "code_co_qualname");
    check("pyobject.size", DBG(pyobject.size), "object_size");
    check("pyobject.ob_type", DBG(pyobject.ob_type), "object_type");
    check("type_object.size", DBG(type_object.size), "type_size");
    check("type_object.tp_name", DBG(type_object.tp_name), "type_tp_name");
    check("type_object.tp_flags", DBG(type_object.tp_flags), "type_tp_flags");
    check("tuple_object.size", DBG(tuple_object.size), "tuple_size");
    check("tuple_object.ob_item", DBG(tuple_object.ob_item), "tuple_ob_item");
    check("tuple_object.ob_size", DBG(tuple_object.ob_size), "varobject_ob_size");
    check("list_object.size", DBG(list_object.size), "list_size");
    check("list_object.ob_item", DBG(list_object.ob_item), "list_ob_item");
    check("list_object.ob_size", DBG(list_object.ob_size), "varobject_ob_size");
    check("dict_object.size", DBG(dict_object.size), "dict_size");
    check("dict_object.ma_keys", DBG(dict_object.ma_keys), "dict_ma_keys");
    check("dict_object.ma_values", DBG(dict_object.ma_values), "dict_ma_values");
    check("float_object.size", DBG(float_object.size), "float_size");
    check("float_object.ob_fval", DBG(float_object.ob_fval), "float_ob_fval");
    check("long_object.size", DBG(long_object.size), "long_size");
    check("long_object.lv_tag", DBG(long_object.lv_tag), "long_lv_tag");
    check("long_object.ob_digit", DBG(long_object.ob_digit), "long_ob_digit");
    check("bytes_object.size", DBG(bytes_object.size), "bytes_size");
    check("bytes_object.ob_size", DBG(bytes_object.ob_size), "varobject_ob_size");
    check("bytes_object.ob_sval", DBG(bytes_object.ob_sval), "bytes_ob_sval");
    check("unicode_object.size", DBG(unicode_object.size), "unicode_size");
    check("unicode_object.state", DBG(unicode_object.state), "unicode_state");
    check("unicode_object.length", DBG(unicode_object.length), "unicode_length");
    check("unicode_object.asciiobject_size", DBG(unicode_object.asciiobject_size), "unicode_ascii_size");
    check("gc.size", DBG(gc.size), "gc_state_size");
    check("gc.collecting", DBG(gc.collecting), "gc_collecting");
    if (!dwarf_mode) printf("        },\n");
    expect(n_checks <= 48, "n_checks <= PY_LAYOUT_MAX_DEBUG_CHECKS");
    field("n_debug_checks", n_checks);
#else
    NONE(debug_offsets_size);
    NONE(debug_cookie);
    NONE(debug_version);
    NONE(debug_free_threaded);
    field("n_debug_checks", 0);
#endif

    if (!dwarf_mode) {
        printf("    },\n");
        printf("    /* END python3.%u */\n", minor);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("gen_layout: stdout");
        return 1;
    }
    return failed;
}
