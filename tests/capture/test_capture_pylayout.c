/*
 * test_capture_pylayout.c - the CPython layout table (capture/py_layout.h):
 * py_layout_find for every covered minor and NULL outside; invariants every
 * entry must satisfy (members inside their structures, members present
 * exactly in the versions that have them, known constant values); and
 * py_layout_check_debug_offsets against the real _Py_DebugOffsets of
 * libpython3.13, read from the ELF file (initialised static data at the
 * _PyRuntime symbol), then with each vouched-for member changed, the cookie,
 * version and free_threaded changed, every short length and random bytes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <elf.h>

#include "capture_test_util.h"
#include "py_layout.h"
#include "pylayout_test_util.h"

#define A PY_LAYOUT_ABSENT

/* Fails unless member `off` (+ `width` bytes) lies inside a structure of
 * `size` bytes. */
static void inside(const py_layout *L, const char *what, uint32_t off, uint32_t width, uint32_t size)
{
    if (off == A || size == A)
        fail_msg("3.%u: %s: absent (offset %u, size %u)", L->version >> 16 & 0xff, what, off, size);
    if (off > size || width > size - off)
        fail_msg("3.%u: %s: offset %u + %u bytes outside the structure's %u bytes", L->version >> 16 & 0xff,
                 what, off, width, size);
}

/* Fails unless `v` is ABSENT exactly when `present` is false. */
static void present_iff(const py_layout *L, const char *what, uint32_t v, int present)
{
    if ((v != A) != !!present)
        fail_msg("3.%u: %s is %s but should be %s", L->version >> 16 & 0xff, what,
                 v == A ? "absent" : "present", present ? "present" : "absent");
}

static void test_find(void **state)
{
    (void)state;
    ct_eq_u64(py_layout_count, 6, "entries (3.8 .. 3.13)");
    for (unsigned m = 8; m <= 13; m++) {
        const py_layout *L = py_layout_find(m);
        if (!L) fail_msg("py_layout_find(%u) returned NULL", m);
        ct_eq_u64(L->version, 0x03000000u | m << 16, "version of the 3.%u entry", m);
        ct_eq_u64(L->source_version >> 16, 0x0300u | m, "source_version of the 3.%u entry", m);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "3.%u.", m);
        if (!L->source || strncmp(L->source, prefix, strlen(prefix)) != 0)
            fail_msg("3.%u entry: source \"%s\" does not start with %s", m, L->source ? L->source : "(null)",
                     prefix);
        ct_eq_u64(L->source_version >> 8 & 0xff, (unsigned long long)atoi(L->source + strlen(prefix)),
                  "3.%u: source_version's micro agrees with source \"%s\"", m, L->source);
        if (m > 8 && L <= py_layout_find(m - 1)) fail_msg("table not ordered oldest first at 3.%u", m);
    }
    const unsigned none[] = {0, 1, 2, 3, 4, 5, 6, 7, 14, 15, 99, 255, 256, 0x10008, UINT_MAX};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        if (py_layout_find(none[i])) fail_msg("py_layout_find(%u) should be NULL", none[i]);
}

static void test_invariants(void **state)
{
    (void)state;
    for (unsigned i = 0; i < py_layout_count; i++) {
        const py_layout *L = &py_layout_table[i];
        unsigned m = L->version >> 16 & 0xff;

        /* objects, types */
        inside(L, "ob_refcnt", L->object_refcnt, 8, L->object_size);
        inside(L, "ob_type", L->object_type, 8, L->object_size);
        inside(L, "ob_size", L->varobject_ob_size, 8, L->varobject_size);
        ct_eq_u64(L->varobject_size, L->object_size + 8, "3.%u: PyVarObject = PyObject + ob_size", m);
        inside(L, "tp_name", L->type_tp_name, 8, L->type_size);
        inside(L, "tp_basicsize", L->type_tp_basicsize, 8, L->type_size);
        inside(L, "tp_itemsize", L->type_tp_itemsize, 8, L->type_size);
        inside(L, "tp_flags", L->type_tp_flags, 8, L->type_size);
        inside(L, "tp_weaklistoffset", L->type_tp_weaklistoffset, 8, L->type_size);
        inside(L, "tp_base", L->type_tp_base, 8, L->type_size);
        inside(L, "tp_dict", L->type_tp_dict, 8, L->type_size);
        inside(L, "tp_dictoffset", L->type_tp_dictoffset, 8, L->type_size);
        const uint32_t ht[] = {L->heaptype_ht_name, L->heaptype_ht_qualname, L->heaptype_ht_cached_keys};
        for (size_t k = 0; k < 3; k++) {
            inside(L, "heap type member", ht[k], 8, L->heaptype_size);
            if (ht[k] < L->type_size) fail_msg("3.%u: heap type member at %u inside PyTypeObject", m, ht[k]);
        }
        present_iff(L, "ht_module", L->heaptype_ht_module, m >= 9);
        if (m >= 9) inside(L, "ht_module", L->heaptype_ht_module, 8, L->heaptype_size);

        /* immortality, flags, pre-header */
        ct_eq_u64(L->immortal_rule, m >= 12 ? PY_IMMORTAL_LOW32_NEGATIVE : PY_IMMORTAL_NONE,
                  "3.%u: immortal_rule", m);
        if ((L->immortal_refcnt != 0) != (m >= 12))
            fail_msg("3.%u: immortal_refcnt %llu", m, (unsigned long long)L->immortal_refcnt);
        if (m >= 12 && (int32_t)(uint32_t)L->immortal_refcnt >= 0)
            fail_msg("3.%u: immortal_refcnt 0x%llx is not immortal by the rule", m,
                     (unsigned long long)L->immortal_refcnt);
        ct_eq_u64(L->tpflags_heaptype, 1u << 9, "3.%u: Py_TPFLAGS_HEAPTYPE", m);
        ct_eq_u64(L->tpflags_have_gc, 1u << 14, "3.%u: Py_TPFLAGS_HAVE_GC", m);
        ct_eq_u64(L->tpflags_long_subclass, 1u << 24, "3.%u: Py_TPFLAGS_LONG_SUBCLASS", m);
        ct_eq_u64(L->tpflags_list_subclass, 1u << 25, "3.%u: Py_TPFLAGS_LIST_SUBCLASS", m);
        ct_eq_u64(L->tpflags_tuple_subclass, 1u << 26, "3.%u: Py_TPFLAGS_TUPLE_SUBCLASS", m);
        ct_eq_u64(L->tpflags_bytes_subclass, 1u << 27, "3.%u: Py_TPFLAGS_BYTES_SUBCLASS", m);
        ct_eq_u64(L->tpflags_unicode_subclass, 1u << 28, "3.%u: Py_TPFLAGS_UNICODE_SUBCLASS", m);
        ct_eq_u64(L->tpflags_dict_subclass, 1u << 29, "3.%u: Py_TPFLAGS_DICT_SUBCLASS", m);
        ct_eq_u64(L->tpflags_type_subclass, 1u << 31, "3.%u: Py_TPFLAGS_TYPE_SUBCLASS", m);
        ct_eq_u64(L->tpflags_managed_dict, m >= 11 ? 1u << 4 : 0, "3.%u: Py_TPFLAGS_MANAGED_DICT", m);
        ct_eq_u64(L->tpflags_managed_weakref, m >= 12 ? 1u << 3 : 0, "3.%u: Py_TPFLAGS_MANAGED_WEAKREF", m);
        ct_eq_u64(L->tpflags_inline_values, m >= 13 ? 1u << 2 : 0, "3.%u: Py_TPFLAGS_INLINE_VALUES", m);
        ct_eq_u64(L->tpflags_preheader, L->tpflags_managed_dict | L->tpflags_managed_weakref,
                  "3.%u: pre-header flags = managed dict | managed weakref", m);
        ct_eq_u64(L->preheader_gc_size, L->gchead_size, "3.%u: GC pre-header is the PyGC_Head", m);
        ct_eq_u64(L->preheader_managed_size, m >= 11 ? 16 : 0, "3.%u: managed pre-header (2 pointers)", m);
        ct_eq_u64(L->managed_dict_kind,
                  m >= 13   ? PY_MANAGED_DICT_INLINE
                  : m == 12 ? PY_MANAGED_DICT_TAGGED
                  : m == 11 ? PY_MANAGED_DICT_SPLIT
                            : PY_MANAGED_DICT_NONE,
                  "3.%u: managed_dict_kind", m);
        present_iff(L, "managed_dict_before", L->managed_dict_before, m >= 11);
        present_iff(L, "managed_values_before", L->managed_values_before, m == 11);
        present_iff(L, "managed_weakref_before", L->managed_weakref_before, m >= 12);
        /* the managed slots lie in the managed pre-header, below the PyGC_Head */
        const uint32_t below[] = {L->managed_dict_before, L->managed_values_before,
                                  L->managed_weakref_before};
        for (size_t k = 0; k < 3; k++) {
            if (below[k] == A) continue;
            if (below[k] <= L->preheader_gc_size ||
                below[k] > L->preheader_gc_size + L->preheader_managed_size || below[k] % 8)
                fail_msg("3.%u: a managed slot %u bytes before the object is outside the pre-header", m,
                         below[k]);
        }

        /* runtime, interpreter, GC */
        inside(L, "interpreters.head", L->runtime_interpreters_head, 8, L->runtime_size);
        inside(L, "interpreters.main", L->runtime_interpreters_main, 8, L->runtime_size);
        inside(L, "_finalizing", L->runtime_finalizing, 8, L->runtime_size);
        ct_eq_u64(L->gc_where, m >= 9 ? PY_GC_IN_INTERP : PY_GC_IN_RUNTIME, "3.%u: gc_where", m);
        present_iff(L, "runtime_gc", L->runtime_gc, m == 8);
        present_iff(L, "interp_gc", L->interp_gc, m >= 9);
        if (m == 8)
            inside(L, "_PyRuntime.gc", L->runtime_gc, L->gc_state_size, L->runtime_size);
        else
            inside(L, "interp->gc", L->interp_gc, L->gc_state_size, L->interp_size);
        inside(L, "interp->next", L->interp_next, 8, L->interp_size);
        inside(L, "interp->id", L->interp_id, 8, L->interp_size);
        inside(L, "interp->modules", L->interp_modules, 8, L->interp_size);
        inside(L, "interp->sysdict", L->interp_sysdict, 8, L->interp_size);
        inside(L, "interp->builtins", L->interp_builtins, 8, L->interp_size);
        ct_eq_u64(L->gc_num_generations, 3, "3.%u: NUM_GENERATIONS", m);
        inside(L, "gc.generations", L->gc_generations, L->gc_num_generations * L->gc_generation_size,
               L->gc_state_size);
        inside(L, "gc.generation0", L->gc_generation0, 8, L->gc_state_size);
        inside(L, "gc.permanent", L->gc_permanent, L->gc_generation_size, L->gc_state_size);
        inside(L, "gc.collecting", L->gc_collecting, 4, L->gc_state_size);
        inside(L, "gc.enabled", L->gc_enabled, 4, L->gc_state_size);
        inside(L, "generation.head", L->gc_generation_head, L->gchead_size, L->gc_generation_size);
        inside(L, "generation.threshold", L->gc_generation_threshold, 4, L->gc_generation_size);
        inside(L, "generation.count", L->gc_generation_count, 4, L->gc_generation_size);
        ct_eq_u64(L->gchead_size, 16, "3.%u: sizeof(PyGC_Head)", m);
        inside(L, "_gc_next", L->gchead_next, 8, L->gchead_size);
        inside(L, "_gc_prev", L->gchead_prev, 8, L->gchead_size);
        ct_eq_u64(L->gchead_flag_bits, 2, "3.%u: _PyGC_PREV_SHIFT", m);

        /* containers */
        ct_eq_u64(L->tuple_ob_item + 8, L->tuple_size, "3.%u: PyTupleObject ends with ob_item[1]", m);
        ct_eq_u64(L->tuple_ob_item, L->varobject_size, "3.%u: ob_item follows the PyVarObject", m);
        inside(L, "list.ob_item", L->list_ob_item, 8, L->list_size);
        inside(L, "list.allocated", L->list_allocated, 8, L->list_size);
        inside(L, "dict.ma_used", L->dict_ma_used, 8, L->dict_size);
        inside(L, "dict.ma_keys", L->dict_ma_keys, 8, L->dict_size);
        inside(L, "dict.ma_values", L->dict_ma_values, 8, L->dict_size);
        ct_eq_u64(L->dictkeys_dk_indices, L->dictkeys_size, "3.%u: dk_indices ends the keys header", m);
        inside(L, "dk_refcnt", L->dictkeys_dk_refcnt, 8, L->dictkeys_size);
        inside(L, "dk_usable", L->dictkeys_dk_usable, 8, L->dictkeys_size);
        inside(L, "dk_nentries", L->dictkeys_dk_nentries, 8, L->dictkeys_size);
        present_iff(L, "dk_size", L->dictkeys_dk_size, m <= 10);
        present_iff(L, "dk_log2_size", L->dictkeys_dk_log2_size, m >= 11);
        present_iff(L, "dk_log2_index_bytes", L->dictkeys_dk_log2_index_bytes, m >= 11);
        present_iff(L, "dk_kind", L->dictkeys_dk_kind, m >= 11);
        present_iff(L, "PyDictUnicodeEntry", L->dict_unicode_entry_size, m >= 11);
        present_iff(L, "dictvalues.values", L->dictvalues_values, m >= 11);
        if (m <= 10) inside(L, "dk_size", L->dictkeys_dk_size, 8, L->dictkeys_size);
        if (m >= 11) {
            inside(L, "dk_log2_size", L->dictkeys_dk_log2_size, 1, L->dictkeys_size);
            inside(L, "dk_log2_index_bytes", L->dictkeys_dk_log2_index_bytes, 1, L->dictkeys_size);
            inside(L, "dk_kind", L->dictkeys_dk_kind, 1, L->dictkeys_size);
            ct_eq_u64(L->dict_unicode_entry_size, 16, "3.%u: PyDictUnicodeEntry {key, value}", m);
        }
        ct_eq_u64(L->dict_entry_size, 24, "3.%u: PyDictKeyEntry {hash, key, value}", m);
        inside(L, "md_dict", L->module_md_dict, 8, L->module_size);
        inside(L, "md_name", L->module_md_name, 8, L->module_size);
        ct_eq_u64(L->module_md_dict, L->object_size, "3.%u: md_dict follows the PyObject", m);
        inside(L, "set.fill", L->set_fill, 8, L->set_size);
        inside(L, "set.used", L->set_used, 8, L->set_size);
        inside(L, "set.mask", L->set_mask, 8, L->set_size);
        inside(L, "set.table", L->set_table, 8, L->set_size);
        inside(L, "set.smalltable", L->set_smalltable, 8 * L->setentry_size, L->set_size);

        /* str, bytes, int, float, code */
        if (!(L->unicode_ascii_size < L->unicode_compact_size && L->unicode_compact_size < L->unicode_size))
            fail_msg("3.%u: str structure sizes not increasing", m);
        inside(L, "str.length", L->unicode_length, 8, L->unicode_ascii_size);
        inside(L, "str.state", L->unicode_state, 4, L->unicode_ascii_size);
        if (L->unicode_state_kind_shift + 3 > 32 || L->unicode_state_compact_bit >= 32 ||
            L->unicode_state_ascii_bit >= 32 || L->unicode_state_compact_bit == L->unicode_state_ascii_bit)
            fail_msg("3.%u: str state bits out of range", m);
        inside(L, "bytes.ob_sval", L->bytes_ob_sval, 1, L->bytes_size);
        inside(L, "bytearray.ob_alloc", L->bytearray_ob_alloc, 8, L->bytearray_size);
        inside(L, "bytearray.ob_bytes", L->bytearray_ob_bytes, 8, L->bytearray_size);
        inside(L, "bytearray.ob_start", L->bytearray_ob_start, 8, L->bytearray_size);
        present_iff(L, "lv_tag", L->long_lv_tag, m >= 12);
        present_iff(L, "long_non_size_bits", L->long_non_size_bits, m >= 12);
        if (m >= 12) inside(L, "lv_tag", L->long_lv_tag, 8, L->long_size);
        inside(L, "ob_digit", L->long_ob_digit, L->long_digit_size, L->long_size);
        ct_eq_u64(L->long_digit_size, 4, "3.%u: 30-bit digits", m);
        ct_eq_u64(L->long_shift, 30, "3.%u: PyLong_SHIFT", m);
        inside(L, "ob_fval", L->float_ob_fval, 8, L->float_size);
        inside(L, "co_filename", L->code_co_filename, 8, L->code_size);
        inside(L, "co_name", L->code_co_name, 8, L->code_size);
        present_iff(L, "co_qualname", L->code_co_qualname, m >= 11);

        /* pymalloc */
        ct_eq_u64(L->arena_size, m >= 10 ? 1u << 20 : 256u << 10, "3.%u: ARENA_SIZE", m);
        ct_eq_u64(L->pool_size, m >= 10 ? 16u << 10 : 4u << 10, "3.%u: POOL_SIZE", m);
        ct_eq_u64(L->pymalloc_alignment, 16, "3.%u: ALIGNMENT", m);
        ct_eq_u64(L->pymalloc_small_request_threshold, 512, "3.%u: SMALL_REQUEST_THRESHOLD", m);
        ct_eq_u64(L->pymalloc_size_classes, L->pymalloc_small_request_threshold / L->pymalloc_alignment,
                  "3.%u: size classes", m);
        ct_eq_u64(L->obmalloc_usedpools_count, 2 * ((L->pymalloc_size_classes + 7) / 8) * 8,
                  "3.%u: usedpools[]", m);
        const uint32_t pool4[] = {L->pool_ref_count, L->pool_arenaindex, L->pool_szidx, L->pool_nextoffset,
                                  L->pool_maxnextoffset};
        for (size_t k = 0; k < 5; k++) inside(L, "pool_header uint", pool4[k], 4, L->pool_header_size);
        const uint32_t pool8[] = {L->pool_freeblock, L->pool_nextpool, L->pool_prevpool};
        for (size_t k = 0; k < 3; k++) inside(L, "pool_header pointer", pool8[k], 8, L->pool_header_size);
        const uint32_t ar4[] = {L->arena_nfreepools, L->arena_ntotalpools};
        for (size_t k = 0; k < 2; k++) inside(L, "arena_object uint", ar4[k], 4, L->arena_object_size);
        const uint32_t ar8[] = {L->arena_address, L->arena_pool_address, L->arena_freepools,
                                L->arena_nextarena, L->arena_prevarena};
        for (size_t k = 0; k < 5; k++) inside(L, "arena_object pointer", ar8[k], 8, L->arena_object_size);
        ct_eq_u64(L->obmalloc_where,
                  m >= 13   ? PY_OBMALLOC_POINTER
                  : m == 12 ? PY_OBMALLOC_EMBEDDED
                            : PY_OBMALLOC_STATICS,
                  "3.%u: obmalloc_where", m);
        present_iff(L, "interp_obmalloc", L->interp_obmalloc, m >= 12);
        present_iff(L, "obmalloc_size", L->obmalloc_size, m >= 12);
        if (m >= 12) {
            inside(L, "interp->obmalloc", L->interp_obmalloc, m == 12 ? L->obmalloc_size : 8, L->interp_size);
            inside(L, "pools.used", L->obmalloc_usedpools, 8 * L->obmalloc_usedpools_count, L->obmalloc_size);
            const uint32_t st8[] = {L->obmalloc_arenas,
                                    L->obmalloc_unused_arena_objects,
                                    L->obmalloc_usable_arenas,
                                    L->obmalloc_narenas_currently_allocated,
                                    L->obmalloc_ntimes_arena_allocated,
                                    L->obmalloc_narenas_highwater};
            for (size_t k = 0; k < 6; k++) inside(L, "obmalloc state member", st8[k], 8, L->obmalloc_size);
            inside(L, "maxarenas", L->obmalloc_maxarenas, 4, L->obmalloc_size);
        } else {
            present_iff(L, "obmalloc_arenas", L->obmalloc_arenas, 0);
            present_iff(L, "obmalloc_narenas_currently_allocated", L->obmalloc_narenas_currently_allocated,
                        0);
        }

        /* _Py_DebugOffsets */
        present_iff(L, "debug_offsets_size", L->debug_offsets_size, m >= 13);
        if (m < 13) {
            ct_eq_u64(L->n_debug_checks, 0, "3.%u: no debug checks before 3.13", m);
            continue;
        }
        ct_eq_u64(L->debug_cookie, 0, "3.%u: cookie first", m);
        inside(L, "debug version", L->debug_version, 8, L->debug_offsets_size);
        inside(L, "debug free_threaded", L->debug_free_threaded, 8, L->debug_offsets_size);
        if (L->n_debug_checks < 30 || L->n_debug_checks > PY_LAYOUT_MAX_DEBUG_CHECKS)
            fail_msg("3.%u: %u debug checks", m, L->n_debug_checks);
        for (unsigned k = 0; k < L->n_debug_checks; k++) {
            const py_layout_debug_check *c = &L->debug_checks[k];
            if (!c->name || !c->field) fail_msg("3.%u: check %u has no name", m, k);
            inside(L, c->name, c->dbg_offset, 8, L->debug_offsets_size);
            if (c->dbg_offset % 8 || c->dbg_offset < 24)
                fail_msg("3.%u: %s at byte %u", m, c->name, c->dbg_offset);
            if (c->field_offset % 4 || c->field_offset + 4 > offsetof(py_layout, debug_offsets_size))
                fail_msg("3.%u: %s vouches for a non-layout member at %u", m, c->name, c->field_offset);
            for (unsigned j = 0; j < k; j++)
                if (!strcmp(c->name, L->debug_checks[j].name) ||
                    c->dbg_offset == L->debug_checks[j].dbg_offset)
                    fail_msg("3.%u: %s checked twice", m, c->name);
        }
    }
}

/* ------------------------------------------------- _Py_DebugOffsets */

typedef struct {
    const py_layout *L;
    unsigned char *dbg; /* L->debug_offsets_size bytes of the real _Py_DebugOffsets */
    char *lib;
} real_dbg;

/* Reads libpython3.13's _Py_DebugOffsets from its file; skips when absent. */
static void load_real(real_dbg *r)
{
    char *root = pt_pyenv_root();
    char *dir = pt_pyenv_version(root, 13);
    if (!dir) {
        char where[512];
        snprintf(where, sizeof where, "%s", root ? root : "(no pyenv root found)");
        free(root);
        ct_skip(
            "python3.13 is not installed under %s/versions: the 3.13 table is not checked against the real "
            "_Py_DebugOffsets",
            where);
    }
    r->L = py_layout_find(13);
    assert_non_null(r->L);
    r->lib = ct_path(dir, "lib/libpython3.13.so.1.0");
    char err[512];
    pt_elf *e = pt_elf_open(r->lib, err, sizeof err);
    if (!e) fail_msg("%s", err);
    uint64_t value, size, sec_addr, sec_size;
    if (pt_elf_symbol(e, SHT_DYNSYM, "_PyRuntime", &value, &size) != 0)
        fail_msg("%s: no _PyRuntime in .dynsym", r->lib);
    if (size < r->L->debug_offsets_size)
        fail_msg("%s: _PyRuntime is %llu bytes, smaller than _Py_DebugOffsets (%u)", r->lib,
                 (unsigned long long)size, r->L->debug_offsets_size);
    if (pt_elf_section(e, ".PyRuntime", &sec_addr, NULL, &sec_size) != 0)
        fail_msg("%s: no .PyRuntime section", r->lib);
    ct_eq_u64(sec_addr, value, "%s: .PyRuntime starts at _PyRuntime", r->lib);
    r->dbg = malloc(r->L->debug_offsets_size);
    assert_non_null(r->dbg);
    if (pt_elf_read_vaddr(e, value, r->dbg, r->L->debug_offsets_size) != 0)
        fail_msg("%s: cannot read %u bytes at _PyRuntime (0x%llx) from the file", r->lib,
                 r->L->debug_offsets_size, (unsigned long long)value);
    pt_elf_close(e);
    uint64_t version;
    memcpy(&version, r->dbg + r->L->debug_version, sizeof version);
    printf("%s: _PyRuntime at 0x%llx (%llu bytes), _Py_DebugOffsets version 0x%08llx\n", r->lib,
           (unsigned long long)value, (unsigned long long)size, (unsigned long long)version);
    free(dir);
    free(root);
}

static void free_real(real_dbg *r)
{
    free(r->dbg);
    free(r->lib);
}

static void test_debug_offsets_match(void **state)
{
    (void)state;
    real_dbg r;
    load_real(&r);
    char msg[512] = "unchanged";
    int rc = py_layout_check_debug_offsets(r.L, r.dbg, r.L->debug_offsets_size, msg, sizeof msg);
    if (rc != 0) fail_msg("the 3.13 table does not match %s: %s", r.lib, msg);
    if (msg[0]) fail_msg("success left a message: %s", msg);
    /* the same with no message buffer */
    assert_int_equal(py_layout_check_debug_offsets(r.L, r.dbg, r.L->debug_offsets_size, NULL, 0), 0);
    printf("3.13 table (%s) matches %u members of %s's _Py_DebugOffsets\n", r.L->source, r.L->n_debug_checks,
           r.lib);
    free_real(&r);
}

static void expect_fail(const py_layout *L, const unsigned char *dbg, size_t len, const char *want1,
                        const char *want2, const char *what)
{
    char msg[512];
    memset(msg, 'x', sizeof msg);
    if (py_layout_check_debug_offsets(L, dbg, len, msg, sizeof msg) != -1) fail_msg("%s: accepted", what);
    if (!memchr(msg, 0, sizeof msg)) fail_msg("%s: message not terminated", what);
    if (want1 && !strstr(msg, want1)) fail_msg("%s: message \"%s\" does not name \"%s\"", what, msg, want1);
    if (want2 && !strstr(msg, want2)) fail_msg("%s: message \"%s\" lacks \"%s\"", what, msg, want2);
}

static void test_debug_offsets_mismatch(void **state)
{
    (void)state;
    real_dbg r;
    load_real(&r);
    const py_layout *L = r.L;
    size_t n = L->debug_offsets_size;
    unsigned char *b = malloc(n);
    assert_non_null(b);

    /* every vouched-for member, changed alone, is named with both values */
    for (unsigned k = 0; k < L->n_debug_checks; k++) {
        const py_layout_debug_check *c = &L->debug_checks[k];
        memcpy(b, r.dbg, n);
        uint64_t v;
        memcpy(&v, b + c->dbg_offset, 8);
        uint64_t nv = v + 8;
        memcpy(b + c->dbg_offset, &nv, 8);
        char name[128], where[64], vals[96];
        snprintf(name, sizeof name, "_Py_DebugOffsets.%s (byte %u)", c->name, c->dbg_offset);
        snprintf(where, sizeof where, "(%s, from %s)", c->field, L->source);
        snprintf(vals, sizeof vals, "has %llu, the target (3.13.", (unsigned long long)v);
        expect_fail(L, b, n, name, vals, c->name);
        char got[64];
        snprintf(got, sizeof got, ") has %llu;", (unsigned long long)nv);
        expect_fail(L, b, n, where, got, c->name);
    }
    printf("each of %u members changed alone: refused, named\n", L->n_debug_checks);

    memcpy(b, r.dbg, n);
    b[3] ^= 0x20;
    expect_fail(L, b, n, "_Py_DebugOffsets.cookie (byte 0)", "found \"xdeBugpy\"", "cookie");
    memset(b, 0, 8);
    expect_fail(L, b, n, "cookie", "\\x00\\x00", "zero cookie");

    memcpy(b, r.dbg, n);
    uint64_t v312 = 0x030c01f0;
    memcpy(b + L->debug_version, &v312, 8);
    expect_fail(L, b, n, "_Py_DebugOffsets.version", "(3.12)", "version 3.12");
    uint64_t v313_9 = 0x030d09f0; /* another micro release of 3.13: the members decide */
    memcpy(b + L->debug_version, &v313_9, 8);
    assert_int_equal(py_layout_check_debug_offsets(L, b, n, NULL, 0), 0);

    memcpy(b, r.dbg, n);
    uint64_t one = 1;
    memcpy(b + L->debug_free_threaded, &one, 8);
    expect_fail(L, b, n, "free_threaded", "free-threaded", "free-threaded build");

    /* every length short of the last checked member fails without reading past it */
    uint32_t need = 0;
    for (unsigned k = 0; k < L->n_debug_checks; k++)
        if (L->debug_checks[k].dbg_offset + 8 > need) need = L->debug_checks[k].dbg_offset + 8;
    for (size_t len = 0; len < need; len++) {
        unsigned char *exact = malloc(len ? len : 1); /* ASan catches a read beyond len */
        assert_non_null(exact);
        memcpy(exact, r.dbg, len);
        expect_fail(L, exact, len, len < 8 ? "too few for the cookie" : "bytes", NULL, "short length");
        free(exact);
    }
    assert_int_equal(py_layout_check_debug_offsets(L, r.dbg, need, NULL, 0), 0);

    /* NULLs, tiny message buffers, entries without _Py_DebugOffsets */
    expect_fail(NULL, r.dbg, n, "NULL", NULL, "NULL table");
    expect_fail(L, NULL, n, "NULL", NULL, "NULL bytes");
    assert_int_equal(py_layout_check_debug_offsets(L, NULL, 0, NULL, 0), -1);
    char tiny[6] = "zzzzz";
    memcpy(b, r.dbg, n);
    b[0] = 'X';
    assert_int_equal(py_layout_check_debug_offsets(L, b, n, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "_Py_D");
    for (unsigned m = 8; m <= 12; m++)
        expect_fail(py_layout_find(m), r.dbg, n, "no _Py_DebugOffsets", NULL, "3.x");

    /* random bytes behind a valid header: never accepted, never out of bounds */
    srand(1234);
    unsigned accepted = 0;
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t)rand() % (n + 1);
        unsigned char *x = malloc(len ? len : 1);
        assert_non_null(x);
        for (size_t j = 0; j < len; j++) x[j] = (unsigned char)rand();
        if (len >= 24 && rand() % 2) memcpy(x, r.dbg, 24);
        char msg[256];
        if (py_layout_check_debug_offsets(L, x, len, msg, sizeof msg) == 0) accepted++;
        free(x);
    }
    ct_eq_u64(accepted, 0, "random _Py_DebugOffsets accepted");
    free(b);
    free_real(&r);
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_find, ct_teardown),
        cmocka_unit_test_teardown(test_invariants, ct_teardown),
        cmocka_unit_test_teardown(test_debug_offsets_match, ct_teardown),
        cmocka_unit_test_teardown(test_debug_offsets_mismatch, ct_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
