/*
 * test_capture_smaps.c - cmocka tests of capture/smaps.c: the mapping
 * header parser on every kind of line real kernels print (and on this
 * test process's own /proc/self/smaps), the incremental parser fed in
 * arbitrary pieces, unknown fields, the mapping cap and corrupt input.
 *
 * Tables built by the parser are checked by writing them as one snapshot
 * into a memfd and reading them back with the format library.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture_test_util.h"
#include "smaps.h"

/* ------------------------------------------------------------- headers */

/* A header line as fs/proc/task_mmu.c prints it: the prefix (ending with
 * the space after the inode), padded with spaces to 72 columns, one more
 * space, then the name. */
static char *kline(const char *prefix, const char *name)
{
    static char buf[512];
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    while (n < 72) buf[n++] = ' ';
    buf[n++] = ' ';
    strcpy(buf + n, name);
    return buf;
}

static void parse_ok(const char *line, smaps_header *h)
{
    if (smaps_parse_header(line, strlen(line), h) != 0) fail_msg("smaps_parse_header refused \"%s\"", line);
}

static void expect_name(const smaps_header *h, const char *want, int deleted, const char *line)
{
    if (!want) {
        if (h->name) fail_msg("\"%s\": want no name, got \"%.*s\"", line, (int)h->name_len, h->name);
        return;
    }
    if (!h->name) fail_msg("\"%s\": want name \"%s\", got none", line, want);
    if (h->name_len != strlen(want) || memcmp(h->name, want, h->name_len))
        fail_msg("\"%s\": want name \"%s\", got \"%.*s\"", line, want, (int)h->name_len, h->name);
    ct_eq_u64(h->deleted, deleted, "deleted flag of \"%s\"", line);
}

static void test_header_anonymous(void **state)
{
    (void)state;
    smaps_header h;
    /* newer kernels end an unnamed mapping's line right after "inode " */
    const char *l1 = "7f4bea615000-7f4bea618000 rw-p 00000000 00:00 0 ";
    parse_ok(l1, &h);
    ct_eq_u64(h.start, 0x7f4bea615000ull, "start");
    ct_eq_u64(h.end, 0x7f4bea618000ull, "end");
    ct_eq_u64(h.perms, 1 | 2 | 16, "perms rw-p");
    ct_eq_u64(h.offset, 0, "offset");
    ct_eq_u64(h.inode, 0, "inode");
    expect_name(&h, NULL, 0, l1);
    /* older ones padded the line to the name column */
    char l2[128];
    snprintf(l2, sizeof l2, "%-73s", "7f4bea615000-7f4bea618000 r--s 00001000 00:05 77 ");
    parse_ok(l2, &h);
    ct_eq_u64(h.perms, 1 | 8, "perms r--s");
    ct_eq_u64(h.offset, 0x1000, "offset");
    ct_eq_u64(h.inode, 77, "inode");
    ct_eq_u64(h.dev_minor, 5, "dev minor");
    expect_name(&h, NULL, 0, l2);
    /* and a line cut right after the inode */
    const char *l3 = "00400000-00452000 ---p 00000000 00:00 0";
    parse_ok(l3, &h);
    ct_eq_u64(h.start, 0x400000, "8-digit start");
    ct_eq_u64(h.perms, 16, "perms ---p");
    expect_name(&h, NULL, 0, l3);
}

static void test_header_special(void **state)
{
    (void)state;
    smaps_header h;
    const char *heap = "5612537a2000-5612537c3000 rw-p 00000000 00:00 0                          [heap]";
    parse_ok(heap, &h);
    expect_name(&h, "[heap]", 0, heap);
    const char *stack = "7ffe183be000-7ffe183df000 rw-p 00000000 00:00 0                          [stack]";
    parse_ok(stack, &h);
    expect_name(&h, "[stack]", 0, stack);
    const char *vdso = "7f4beb02b000-7f4beb02d000 r-xp 00000000 00:00 0                          [vdso]";
    parse_ok(vdso, &h);
    ct_eq_u64(h.perms, 1 | 4 | 16, "perms r-xp");
    expect_name(&h, "[vdso]", 0, vdso);
    const char *vsys = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]";
    parse_ok(vsys, &h);
    ct_eq_u64(h.start, 0xffffffffff600000ull, "16-digit start");
    ct_eq_u64(h.end, 0xffffffffff601000ull, "16-digit end");
    ct_eq_u64(h.perms, 4 | 16, "perms --xp");
    expect_name(&h, "[vsyscall]", 0, vsys);
    const char *anon = kline("7f0000000000-7f0000003000 rw-p 00000000 00:00 0 ", "[anon:msnap test name]");
    parse_ok(anon, &h);
    expect_name(&h, "[anon:msnap test name]", 0, anon);
    /* "(deleted)" only means something after a path */
    const char *anon2 = kline("7f0000000000-7f0000003000 rw-p 00000000 00:00 0 ", "[anon:x (deleted)]");
    parse_ok(anon2, &h);
    expect_name(&h, "[anon:x (deleted)]", 0, anon2);
}

static void test_header_paths(void **state)
{
    (void)state;
    smaps_header h;
    const char *memfd = "7f4bea60e000-7f4bea613000 rw-s 00000000 00:01 24                         /memfd:msnap-memfd (deleted)";
    parse_ok(memfd, &h);
    ct_eq_u64(h.perms, 1 | 2 | 8, "perms rw-s");
    ct_eq_u64(h.dev_major, 0, "dev major");
    ct_eq_u64(h.dev_minor, 1, "dev minor");
    ct_eq_u64(h.inode, 24, "inode");
    expect_name(&h, "/memfd:msnap-memfd", 1, memfd);

    const char *shm = "7f4bea606000-7f4bea60c000 rw-s 00000000 00:01 25                         /dev/zero (deleted)";
    parse_ok(shm, &h);
    expect_name(&h, "/dev/zero", 1, shm);

    const char *space = "7f4beb020000-7f4beb022000 r--p 00000000 fe:00 10953186                   /tmp/mtdir/ name with space.bin";
    parse_ok(space, &h);
    ct_eq_u64(h.dev_major, 0xfe, "dev major fe");
    ct_eq_u64(h.inode, 10953186, "inode");
    expect_name(&h, "/tmp/mtdir/ name with space.bin", 0, space);

    const char *del = "7f4beb01b000-7f4beb01e000 r--p 00000000 fe:00 10953187                   /tmp/mtdir/deleted.bin (deleted)";
    parse_ok(del, &h);
    expect_name(&h, "/tmp/mtdir/deleted.bin", 1, del);

    /* the kernel escapes a newline in a path as \012; kept as printed */
    const char *nl = kline("7f0000000000-7f0000001000 r--p 00002000 103:02 99 ", "/tmp/a\\012b.so");
    parse_ok(nl, &h);
    ct_eq_u64(h.dev_major, 0x103, "dev major 103");
    ct_eq_u64(h.dev_minor, 2, "dev minor 02");
    ct_eq_u64(h.offset, 0x2000, "offset");
    expect_name(&h, "/tmp/a\\012b.so", 0, nl);

    /* a name starting with spaces is found by its column, not by skipping */
    const char *lead = kline("7f0000000000-7f0000001000 r--p 00000000 00:00 0 ", "  two leading spaces");
    parse_ok(lead, &h);
    expect_name(&h, "  two leading spaces", 0, lead);

    const char *udel = kline("7f0000000000-7f0000001000 r-xp 00000000 fe:00 5 ", "/usr/lib/libfoo.so.1 (deleted)");
    parse_ok(udel, &h);
    expect_name(&h, "/usr/lib/libfoo.so.1", 1, udel);
}

static void test_header_long(void **state)
{
    (void)state;
    smaps_header h;
    /* 84 columns up to and including the space after the inode: no
     * padding, the name follows after exactly one more space */
    const char *l = "ffffffffff600000-ffffffffff601000 r--p 123456789abcdef0 103:02 18446744073709551615  /p/x y";
    if (strchr(l, '/') - l != 85) fail_msg("test line miscounted");
    parse_ok(l, &h);
    ct_eq_u64(h.offset, 0x123456789abcdef0ull, "16-digit offset");
    ct_eq_u64(h.inode, 18446744073709551615ull, "20-digit inode");
    expect_name(&h, "/p/x y", 0, l);
    if (strcmp(kline("ffffffffff600000-ffffffffff601000 r--p 123456789abcdef0 103:02 18446744073709551615 ", "/p/x y"), l))
        fail_msg("kline() and the literal disagree");
    const char *l2 = "ffffffffff600000-ffffffffff601000 r--p 123456789abcdef0 103:02 18446744073709551615   lead";
    parse_ok(l2, &h);
    expect_name(&h, " lead", 0, l2);
    const char *l3 = "ffffffffff600000-ffffffffff601000 r--p 123456789abcdef0 103:02 18446744073709551615 ";
    parse_ok(l3, &h);
    expect_name(&h, NULL, 0, l3);
    /* exactly 72 columns: the pad adds nothing, the name follows one space */
    const char *l4 = "ffffffffff600000-ffffffffff601000 r--p 123456789abcdef0 103:02 12345678  /n";
    if (strchr(l4, '/') - l4 != 73) fail_msg("test line miscounted");
    parse_ok(l4, &h);
    expect_name(&h, "/n", 0, l4);
    /* 71 columns: one pad space plus the separator */
    const char *l5 = "ffffffffff600000-ffffffffff601000 r--p 123456789abcdef0 103:02 1234567   /n";
    parse_ok(l5, &h);
    expect_name(&h, "/n", 0, l5);
}

static void test_header_invalid(void **state)
{
    (void)state;
    smaps_header h;
    static const char *const bad[] = {
        "",
        "hello world",
        "7f00-7f01",
        "7f00-7f01 rw-q 00000000 00:00 0",
        "7f00-7f01 rwzp 00000000 00:00 0",
        "7f00-7f01 rw-p 00000000 00:00",
        "7f00-7f01 rw-p 00000000 0000 0",
        "17f0000000000000a-7f01 rw-p 00000000 00:00 0",
        "7f00-7f01 rw-p 00000000 00:00 0x",
        "7f00 7f01 rw-p 00000000 00:00 0",
        /* text where the padding should be */
        "7f00-7f01 rw-p 00000000 00:00 0 x                                            /x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (smaps_parse_header(bad[i], strlen(bad[i]), &h) == 0)
            fail_msg("smaps_parse_header accepted the bad line \"%s\"", bad[i]);
}

/* The rule checked on the real thing: this process maps files with
 * awkward names and finds them exactly in its own /proc/self/smaps; every
 * header line parses, and every file name matches /proc/self/map_files. */
static void test_header_real_smaps(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL);
    static const char *const names[] = {" leading space.bin", "with  two spaces.so", "new\nline.bin", "gone.bin"};
    void *maps[4];
    char *paths[4];
    long pg = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 4; i++) {
        paths[i] = ct_path(dir, names[i]);
        int fd = open(paths[i], O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ftruncate(fd, pg)) fail_msg("create %s: %s", paths[i], strerror(errno));
        maps[i] = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE, fd, 0);
        if (maps[i] == MAP_FAILED) fail_msg("mmap %s: %s", paths[i], strerror(errno));
        close(fd);
    }
    unlink(paths[3]);
    size_t len;
    char *text = ct_read_file("/proc/self/smaps", &len);
    if (!text) fail_msg("cannot read /proc/self/smaps");
    int found[4] = {0}, checked_files = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        char *colon = memchr(line, ':', ll), *sp = memchr(line, ' ', ll);
        int is_field = colon && (!sp || colon < sp);
        if (!is_field) {
            smaps_header h;
            if (smaps_parse_header(line, ll, &h)) fail_msg("real header line refused: \"%.*s\"", (int)ll, line);
            /* the name column: max(prefix incl. its trailing space, 72) + 1 */
            int pre = 0;
            if (sscanf(line, "%*s %*s %*s %*s %*s%n", &pre) < 0 || pre <= 0) fail_msg("cannot count columns");
            size_t col = (size_t)(pre + 1 > 72 ? pre + 1 : 72) + 1;
            if (h.name && (size_t)(h.name - line) != col)
                fail_msg("name of \"%.*s\" found at column %zu, want %zu", (int)ll, line, (size_t)(h.name - line), col);
            for (int i = 0; i < 4; i++) {
                if (h.start != (uint64_t)(uintptr_t)maps[i]) continue;
                found[i] = 1;
                char want[4200];
                const char *p = paths[i];
                size_t w = 0;
                for (; *p && w < sizeof want - 5; p++) {
                    if (*p == '\n') {
                        memcpy(want + w, "\\012", 4);
                        w += 4;
                    } else {
                        want[w++] = *p;
                    }
                }
                want[w] = 0;
                char l0[4200];
                snprintf(l0, sizeof l0, "%.*s", (int)ll, line);
                expect_name(&h, want, i == 3, l0);
            }
            if (h.name && h.name[0] == '/' && h.inode) {
                char mf[128], target[4200];
                snprintf(mf, sizeof mf, "/proc/self/map_files/%llx-%llx", (unsigned long long)h.start,
                         (unsigned long long)h.end);
                ssize_t n = readlink(mf, target, sizeof target - 1);
                if (n > 0) {
                    target[n] = 0;
                    static const char del[] = " (deleted)";
                    size_t dl = sizeof del - 1;
                    int tdel = (size_t)n > dl && !strcmp(target + n - dl, del);
                    if (tdel) target[n - dl] = 0;
                    if (!strchr(target, '\n')) {
                        char l0[4200];
                        snprintf(l0, sizeof l0, "%.*s", (int)ll, line);
                        expect_name(&h, target, tdel, l0);
                        checked_files++;
                    }
                }
            }
        }
        line = nl ? nl + 1 : line + ll;
    }
    for (int i = 0; i < 4; i++)
        if (!found[i]) fail_msg("mapping of %s not found in /proc/self/smaps", paths[i]);
    printf("checked %d file mappings against /proc/self/map_files\n", checked_files);
    for (int i = 0; i < 4; i++) {
        munmap(maps[i], (size_t)pg);
        free(paths[i]);
    }
    free(text);
    free(dir);
}

/* --------------------------------------------------------- the parser */

/* Four mappings as a 6.x kernel prints them, with an unknown numeric
 * field, an unknown text field, a known field in an unknown unit, and a
 * mapping whose fields come in another order. */
static const char sample[] =
    "55e2147ac000-55e2147ae000 r--p 00000000 fe:00 247498                     /usr/bin/head\n"
    "Size:                  8 kB\n"
    "KernelPageSize:        4 kB\n"
    "MMUPageSize:           4 kB\n"
    "Rss:                   8 kB\n"
    "Pss:                   8 kB\n"
    "Pss_Dirty:             0 kB\n"
    "Shared_Clean:          0 kB\n"
    "Shared_Dirty:          0 kB\n"
    "Private_Clean:         8 kB\n"
    "Private_Dirty:         0 kB\n"
    "Referenced:            8 kB\n"
    "Anonymous:             0 kB\n"
    "NewField:             12 kB\n"
    "KSM:                   0 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:         0 kB\n"
    "Swap:                  0 kB\n"
    "SwapPss:               0 kB\n"
    "Locked:                0 kB\n"
    "THPeligible:           0\n"
    "ProtectionKey:         0\n"
    "VmFlags: rd mr mw me \n"
    "5612537a2000-5612537c3000 rw-p 00000000 00:00 0                          [heap]\n"
    "Size:                132 kB\n"
    "Rss:                  16 kB\n"
    "Pss:                  16 kB\n"
    "Weird: abc def\n"
    "Private_Dirty:        16 kB\n"
    "Anonymous:            16 kB\n"
    "Counter:              7\n"
    "THPeligible:           1\n"
    "VmFlags: rd wr mr mw me ac \n"
    "7f4bea606000-7f4bea60c000 rw-s 00000000 00:01 25                         /dev/zero (deleted)\n"
    "Rss:                  24 kB\n"
    "Size:                 24 kB\n"
    "Pss:                   5 MB\n"
    "Shared_Dirty:         24 kB\n"
    "VmFlags: rd wr sh mr mw me ms sd \n"
    "7f4bea615000-7f4bea618000 rw-p 00000000 00:00 0 \n"
    "Size:                 12 kB\n"
    "Rss:                   4 kB\n"
    "VmFlags: rd wr mr mw me ac \n";

typedef struct {
    ms_snapshot *snap;
} parsed;

/* Writes the parser's tables as one snapshot into a memfd and reads it
 * back. */
static parsed to_snapshot(smaps_parser *p)
{
    ms_table *maps = smaps_take_mappings(p), *extra = smaps_take_extra(p);
    if (!maps || !extra) fail_msg("smaps_take_* returned NULL");
    int fd = memfd_create("smaps-test", MFD_CLOEXEC);
    if (fd < 0) fail_msg("memfd_create: %s", strerror(errno));
    int err = 0;
    char msg[256];
    ms_writer *w = ms_writer_fdopen(fd, "test", 1, &err, msg, sizeof msg);
    if (!w) fail_msg("ms_writer_fdopen: %s", msg);
    /* every snapshot needs its SNAPSHOT section */
    ms_table *sn = ms_table_new(MS_SEC_SNAPSHOT);
    if (!sn || ms_table_row(sn) || ms_table_u64(sn, MS_SNAP_SEQ, 0)) fail_msg("building the snapshot section");
    if (ms_writer_begin(w) || ms_writer_add(w, sn) || ms_writer_add(w, maps) || ms_writer_add(w, extra) ||
        ms_writer_end(w, 0))
        fail_msg("writing the tables: %s", ms_writer_error(w));
    ms_writer_close(w);
    ms_table_free(sn);
    ms_table_free(maps);
    ms_table_free(extra);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    size_t n;
    ms_snapshot **s = ct_read_snapshots(path, &n, NULL);
    close(fd);
    if (n != 1) fail_msg("want 1 snapshot back, got %zu", n);
    parsed r = {s[0]};
    free(s);
    return r;
}

static parsed parse_whole(const char *text, size_t len, size_t cap)
{
    smaps_parser *p = smaps_new(cap, NULL, NULL);
    assert_non_null(p);
    int rc = smaps_feed(p, text, len);
    if (!rc) rc = smaps_finish(p);
    if (rc) fail_msg("parsing the sample failed: %s: %s", ms_errname(rc), smaps_error(p));
    parsed r = to_snapshot(p);
    smaps_free(p);
    return r;
}

static void same_section(const ms_section *a, const ms_section *b, const char *what)
{
    if (!a || !b) fail_msg("%s: section missing", what);
    ct_eq_u64(ms_section_nrows(a), ms_section_nrows(b), "%s: rows", what);
    ct_eq_u64(ms_section_ncols(a), ms_section_ncols(b), "%s: columns", what);
    for (size_t c = 0; c < ms_section_ncols(a); c++) {
        unsigned ca, cb;
        ms_coltype ta, tb;
        ms_section_col_at(a, c, &ca, &ta);
        ms_section_col_at(b, c, &cb, &tb);
        ct_eq_u64(ca, cb, "%s: id of column %zu", what, c);
        ct_eq_u64(ta, tb, "%s: type of column %u", what, ca);
        for (size_t r = 0; r < ms_section_nrows(a); r++) {
            if (ta == MS_T_STR) {
                const char *sa, *sb;
                size_t la, lb;
                ms_get_str(a, ca, r, &sa, &la);
                ms_get_str(b, cb, r, &sb, &lb);
                if (!sa != !sb || la != lb || (sa && memcmp(sa, sb, la)))
                    fail_msg("%s: column %u row %zu: \"%.*s\" vs \"%.*s\"", what, ca, r, (int)la, sa ? sa : "(null)",
                             (int)lb, sb ? sb : "(null)");
            } else {
                uint64_t va = 0, vb = 0;
                ms_get_u64(a, ca, r, &va);
                ms_get_u64(b, cb, r, &vb);
                ct_eq_u64(va, vb, "%s: column %u row %zu", what, ca, r);
            }
        }
    }
}

static void same_tables(const parsed *a, const parsed *b, const char *what)
{
    same_section(ms_snapshot_section(a->snap, MS_SEC_MAPPINGS), ms_snapshot_section(b->snap, MS_SEC_MAPPINGS), what);
    same_section(ms_snapshot_section(a->snap, MS_SEC_MAPPING_EXTRA),
                 ms_snapshot_section(b->snap, MS_SEC_MAPPING_EXTRA), what);
}

static void expect_str(const ms_section *sec, unsigned col, size_t row, const char *want, const char *what)
{
    char *got = ct_str(sec, col, row);
    if (!want != !got || (want && strcmp(want, got)))
        fail_msg("%s: got %s%s%s, want %s%s%s", what, got ? "\"" : "", got ? got : "null", got ? "\"" : "",
                 want ? "\"" : "", want ? want : "null", want ? "\"" : "");
    free(got);
}

static void test_parse_values(void **state)
{
    (void)state;
    parsed r = parse_whole(sample, sizeof sample - 1, 0);
    const ms_section *m = ct_section(r.snap, MS_SEC_MAPPINGS), *x = ct_section(r.snap, MS_SEC_MAPPING_EXTRA);
    ct_eq_u64(ms_section_nrows(m), 4, "mappings");
    ct_eq_u64(ms_u64_or(m, MS_MAP_START, 0, 0), 0x55e2147ac000ull, "row 0 start");
    ct_eq_u64(ms_u64_or(m, MS_MAP_INODE, 0, 0), 247498, "row 0 inode");
    ct_eq_u64(ms_u64_or(m, MS_MAP_DEV_MAJOR, 0, 0), 0xfe, "row 0 dev major");
    expect_str(m, MS_MAP_PATH, 0, "/usr/bin/head", "row 0 path");
    ct_eq_u64(ms_u64_or(m, MS_MAP_RSS, 0, 99), 8, "row 0 Rss");
    ct_eq_u64(ms_u64_or(m, MS_MAP_PRIVATE_CLEAN, 0, 99), 8, "row 0 Private_Clean");
    ct_eq_u64(ms_u64_or(m, MS_MAP_THP_ELIGIBLE, 1, 99), 1, "row 1 THPeligible");
    expect_str(m, MS_MAP_VMFLAGS, 0, "rd mr mw me", "row 0 VmFlags");
    expect_str(m, MS_MAP_PATH, 1, "[heap]", "row 1 path");
    ct_eq_u64(ms_u64_or(m, MS_MAP_SIZE, 1, 0), 132, "row 1 Size");
    expect_str(m, MS_MAP_PATH, 2, "/dev/zero", "row 2 path");
    ct_eq_u64(ms_u64_or(m, MS_MAP_DELETED, 2, 0), 1, "row 2 deleted");
    ct_eq_u64(ms_u64_or(m, MS_MAP_PERMS, 2, 0), 1 | 2 | 8, "row 2 perms");
    ct_eq_u64(ms_u64_or(m, MS_MAP_RSS, 2, 0), 24, "row 2 Rss (fields in another order)");
    ct_eq_u64(ms_u64_or(m, MS_MAP_SIZE, 2, 0), 24, "row 2 Size (fields in another order)");
    ct_eq_u64(ms_u64_or(m, MS_MAP_PSS, 2, 99), 0, "row 2 Pss in MB is not stored as KiB");
    expect_str(m, MS_MAP_PATH, 3, NULL, "row 3 path (anonymous)");
    ct_eq_u64(ms_u64_or(m, MS_MAP_RSS, 3, 0), 4, "row 3 Rss");

    /* the fields the parser does not know, by mapping and name */
    ct_eq_u64(ms_section_nrows(x), 4, "MAPPING_EXTRA rows");
    static const struct {
        uint64_t mapping;
        const char *name;
        uint64_t value;
        const char *unit, *text;
    } want[] = {
        {0, "NewField", 12, "kB", NULL},
        {1, "Weird", 0, NULL, "abc def"},
        {1, "Counter", 7, NULL, NULL},
        {2, "Pss", 5, "MB", NULL},
    };
    for (size_t i = 0; i < 4; i++) {
        char what[64];
        snprintf(what, sizeof what, "MAPPING_EXTRA row %zu (%s)", i, want[i].name);
        ct_eq_u64(ms_u64_or(x, MS_MX_MAPPING, i, 99), want[i].mapping, "%s mapping", what);
        expect_str(x, MS_MX_NAME, i, want[i].name, what);
        ct_eq_u64(ms_u64_or(x, MS_MX_VALUE, i, 99), want[i].value, "%s value", what);
        if (ms_section_has(x, MS_MX_UNIT)) expect_str(x, MS_MX_UNIT, i, want[i].unit, what);
        else if (want[i].unit) fail_msg("%s: no unit column", what);
        if (ms_section_has(x, MS_MX_TEXT)) expect_str(x, MS_MX_TEXT, i, want[i].text, what);
        else if (want[i].text) fail_msg("%s: no text column", what);
    }
    ms_snapshot_free(r.snap);
}

static void test_parse_split_everywhere(void **state)
{
    (void)state;
    size_t len = sizeof sample - 1;
    parsed ref = parse_whole(sample, len, 0);
    for (size_t k = 0; k <= len; k++) {
        smaps_parser *p = smaps_new(0, NULL, NULL);
        assert_non_null(p);
        int rc = smaps_feed(p, sample, k);
        if (!rc) rc = smaps_feed(p, sample + k, len - k);
        if (!rc) rc = smaps_finish(p);
        if (rc) fail_msg("split at byte %zu: %s: %s", k, ms_errname(rc), smaps_error(p));
        ct_eq_u64(smaps_rss_kib(p), 8 + 16 + 24 + 4, "split at byte %zu: Rss total", k);
        parsed got = to_snapshot(p);
        smaps_free(p);
        char what[64];
        snprintf(what, sizeof what, "split at byte %zu", k);
        same_tables(&ref, &got, what);
        ms_snapshot_free(got.snap);
    }
    /* one byte per feed, and three pieces */
    smaps_parser *p = smaps_new(0, NULL, NULL);
    for (size_t i = 0; i < len; i++)
        if (smaps_feed(p, sample + i, 1)) fail_msg("byte-by-byte feed failed at %zu: %s", i, smaps_error(p));
    assert_int_equal(smaps_finish(p), 0);
    parsed got = to_snapshot(p);
    smaps_free(p);
    same_tables(&ref, &got, "one byte per feed");
    ms_snapshot_free(got.snap);
    for (size_t a = 1; a < len; a += 37)
        for (size_t b = a; b < len; b += 53) {
            p = smaps_new(0, NULL, NULL);
            if (smaps_feed(p, sample, a) || smaps_feed(p, sample + a, b - a) || smaps_feed(p, sample + b, len - b) ||
                smaps_finish(p))
                fail_msg("three pieces %zu/%zu failed: %s", a, b, smaps_error(p));
            got = to_snapshot(p);
            smaps_free(p);
            same_tables(&ref, &got, "three pieces");
            ms_snapshot_free(got.snap);
        }
    /* no final newline: smaps_finish parses the last line */
    parsed nonl = parse_whole(sample, len - 1, 0);
    same_tables(&ref, &nonl, "no final newline");
    ms_snapshot_free(nonl.snap);
    ms_snapshot_free(ref.snap);
}

static void test_parse_cap(void **state)
{
    (void)state;
    smaps_parser *p = smaps_new(2, NULL, NULL);
    assert_non_null(p);
    if (smaps_feed(p, sample, sizeof sample - 1) || smaps_finish(p)) fail_msg("parse: %s", smaps_error(p));
    ct_eq_u64(smaps_count(p), 4, "mappings seen with a cap of 2");
    ct_eq_u64(smaps_dropped(p), 2, "mappings dropped with a cap of 2");
    ct_eq_u64(smaps_rss_kib(p), 8 + 16, "Rss of the kept mappings");
    parsed r = to_snapshot(p);
    smaps_free(p);
    const ms_section *m = ct_section(r.snap, MS_SEC_MAPPINGS), *x = ct_section(r.snap, MS_SEC_MAPPING_EXTRA);
    ct_eq_u64(ms_section_nrows(m), 2, "rows kept");
    /* the dropped mapping's unknown field (Pss in MB) is not kept either */
    ct_eq_u64(ms_section_nrows(x), 3, "MAPPING_EXTRA rows of the kept mappings");
    ms_snapshot_free(r.snap);
}

static void expect_corrupt(const char *text, const char *needle)
{
    smaps_parser *p = smaps_new(0, NULL, NULL);
    assert_non_null(p);
    int rc = smaps_feed(p, text, strlen(text));
    if (!rc) rc = smaps_finish(p);
    if (rc != MS_ERR_CORRUPT)
        fail_msg("\"%s\": got %s, want MS_ERR_CORRUPT", text, ms_errname(rc));
    if (!strstr(smaps_error(p), needle))
        fail_msg("\"%s\": error \"%s\" does not mention \"%s\"", text, smaps_error(p), needle);
    smaps_free(p);
}

static void test_parse_garbage(void **state)
{
    (void)state;
    /* the message names the line and quotes it */
    expect_corrupt("this is not smaps\n", "line 1");
    expect_corrupt("this is not smaps\n", "\"this is not smaps\"");
    expect_corrupt("Rss: 4 kB\n", "field before any mapping");
    expect_corrupt("7f00-7f01 rw-p 00000000 00:00 0 \nRss: 4 kB\n\x01\x02 binary junk\n", "line 3");
    expect_corrupt("7f00-7f01 rw-p 00000000 00:00 0 \nSize: 4 kB\n7f01-7f02 garbage here\n", "line 3");
    expect_corrupt("7f00-7f01 rw-p 00000000 00:00 0 \nSize: 4 kB\n7f01-7f02 garbage here\n", "not a mapping header");
    expect_corrupt("7f00-7f01 rw-p 00000000 00:00 0 \n: 4 kB\n", "line 2");
    /* a corrupt last line without newline is found by smaps_finish */
    expect_corrupt("7f00-7f01 rw-p 00000000 00:00 0 \nnonsense", "line 2");
}

/* The name callback sees every mapping name (paths and [bracketed] names,
 * not anonymous mappings without one); what it returns is stored, and
 * NULL keeps the name. This one rewrites paths only. */
static const char *upper_cb(void *ctx, const char *path, size_t len, size_t *outlen)
{
    int *calls = ctx;
    (*calls)++;
    if (path[0] != '/') return NULL;
    static char buf[256];
    if (len >= sizeof buf) return NULL;
    for (size_t i = 0; i < len; i++) buf[i] = (char)(path[i] == '/' ? '_' : path[i]);
    *outlen = len;
    return buf;
}

static void test_parse_path_callback(void **state)
{
    (void)state;
    int calls = 0;
    smaps_parser *p = smaps_new(0, upper_cb, &calls);
    if (smaps_feed(p, sample, sizeof sample - 1) || smaps_finish(p)) fail_msg("parse: %s", smaps_error(p));
    ct_eq_u64(calls, 3, "callback calls (two file paths and [heap]; the anonymous mapping has no name)");
    parsed r = to_snapshot(p);
    smaps_free(p);
    const ms_section *m = ct_section(r.snap, MS_SEC_MAPPINGS);
    expect_str(m, MS_MAP_PATH, 0, "_usr_bin_head", "rewritten path");
    expect_str(m, MS_MAP_PATH, 1, "[heap]", "untouched [heap]");
    expect_str(m, MS_MAP_PATH, 2, "_dev_zero", "rewritten deleted path, suffix removed first");
    ms_snapshot_free(r.snap);
}

/* smaps_named_maps: the header lines of the named mappings but [...]
 * ones, as printed and never rewritten by the path callback, also those
 * beyond the mapping cap; nothing for a text without such mappings. */
static void test_named_maps(void **state)
{
    (void)state;
    int calls = 0;
    smaps_parser *p = smaps_new(1, upper_cb, &calls); /* cap 1: the second file mapping is dropped */
    assert_non_null(p);
    size_t n;
    ct_eq_u64(strlen(smaps_named_maps(p, &n)), 0, "before any input");
    ct_eq_u64(n, 0, "length before any input");
    /* fed in two pieces, split inside a header line */
    size_t half = (size_t)(strstr(sample, "/dev/zero") - sample);
    if (smaps_feed(p, sample, half) || smaps_feed(p, sample + half, sizeof sample - 1 - half) || smaps_finish(p))
        fail_msg("parse: %s", smaps_error(p));
    const char *got = smaps_named_maps(p, &n);
    const char *l1 = strstr(sample, "55");
    const char *want2 = "7f4bea606000-7f4bea60c000 rw-s 00000000 00:01 25                         /dev/zero (deleted)\n";
    size_t l1len = (size_t)(strchr(l1, '\n') - l1) + 1;
    char want[2048]; /* room for the whole sample (about 1.4 KB) and want2: a Debug build warns otherwise */
    snprintf(want, sizeof want, "%.*s%s", (int)l1len, l1, want2);
    if (n != strlen(want) || memcmp(got, want, n))
        fail_msg("named maps text:\n%.*s\nwant:\n%s", (int)n, got, want);
    smaps_free(p);

    p = smaps_new(0, NULL, NULL);
    const char *anon = "7f00-7f01 rw-p 00000000 00:00 0 \nRss: 4 kB\n"
                       "7f01-7f02 rw-p 00000000 00:00 0                                          [heap]\n";
    if (smaps_feed(p, anon, strlen(anon)) || smaps_finish(p)) fail_msg("parse: %s", smaps_error(p));
    smaps_named_maps(p, &n);
    ct_eq_u64(n, 0, "anonymous and [heap] mappings give no named lines");
    smaps_free(p);

    /* bounded: past 64 MiB of lines none is kept and the answer is NULL
     * (the caller lets pyfind read maps itself) */
    p = smaps_new(1, NULL, NULL);
    char line[160];
    size_t fed = 0;
    for (unsigned long i = 0; fed <= ((size_t)64 << 20) + 4096; i++) {
        int k = snprintf(line, sizeof line, "%lx-%lx r--p 00000000 fe:00 1234%*s/usr/lib/x86_64-linux-gnu/libm.so.6\n",
                         0x10000ul + i * 0x2000, 0x11000ul + i * 0x2000, 40, "");
        if (smaps_feed(p, line, (size_t)k)) fail_msg("parse: %s", smaps_error(p));
        fed += (size_t)k;
    }
    if (smaps_finish(p)) fail_msg("parse: %s", smaps_error(p));
    if (smaps_named_maps(p, &n) != NULL || n != 0) fail_msg("over 64 MiB of named lines: want NULL and 0, got %zu bytes", n);
    smaps_free(p);
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_header_anonymous, ct_teardown),
        cmocka_unit_test_teardown(test_header_special, ct_teardown),
        cmocka_unit_test_teardown(test_header_paths, ct_teardown),
        cmocka_unit_test_teardown(test_header_long, ct_teardown),
        cmocka_unit_test_teardown(test_header_invalid, ct_teardown),
        cmocka_unit_test_teardown(test_header_real_smaps, ct_teardown),
        cmocka_unit_test_teardown(test_parse_values, ct_teardown),
        cmocka_unit_test_teardown(test_parse_split_everywhere, ct_teardown),
        cmocka_unit_test_teardown(test_parse_cap, ct_teardown),
        cmocka_unit_test_teardown(test_parse_garbage, ct_teardown),
        cmocka_unit_test_teardown(test_parse_path_callback, ct_teardown),
        cmocka_unit_test_teardown(test_named_maps, ct_teardown),
    };
    return cmocka_run_group_tests_name("capture_smaps", tests, NULL, NULL);
}
