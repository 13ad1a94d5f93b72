/*
 * map_target.c - a process with known mappings, for the capture tests to
 * snapshot and check figure by figure.
 *
 * usage: map_target [--exit-after MS] [--many N] DIR [ARG...]
 *
 * It creates the mappings below (files in DIR, which must exist), prints
 * one line per mapping, then "READY", and waits until it is killed (or,
 * with --exit-after, exits MS milliseconds after READY). With --many it
 * also makes N one-page anonymous mappings of alternating protection (for
 * big snapshots), reported as "MANY <N> <start hex> <end hex>". ARGs are
 * only there to be found in /proc/PID/cmdline. A line is
 *
 *   MAP <kind> <start hex> <end hex> <rss KiB> [<path>]
 *
 * where rss is what Rss must read in smaps. Each mapping sits between two
 * PROT_NONE guard pages, so the kernel cannot merge it with a neighbour.
 * When naming an anonymous mapping is refused, the line is
 * "ANON_NAME unsupported: <errno text>" instead of a MAP line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif
#ifndef PR_SET_VMA_ANON_NAME
#define PR_SET_VMA_ANON_NAME 0
#endif

static size_t page;

static void die(const char *what)
{
    fprintf(stderr, "map_target: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Maps `len` bytes at a fresh address fenced by PROT_NONE pages. */
static unsigned char *map_fenced(size_t len, int prot, int flags, int fd)
{
    unsigned char *res = mmap(NULL, len + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (res == MAP_FAILED) die("mmap (guard)");
    void *p = mmap(res + page, len, prot, flags | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    return p;
}

static void touch_write(unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i += page) p[i] = (unsigned char)(i / page + 1);
}

static unsigned read_all(const unsigned char *p, size_t len)
{
    unsigned sum = 0;
    for (size_t i = 0; i < len; i += page) sum += *(volatile const unsigned char *)(p + i);
    return sum;
}

static void report(const char *kind, const void *p, size_t len, size_t rss_kib, const char *path)
{
    printf("MAP %s %lx %lx %zu%s%s\n", kind, (unsigned long)p, (unsigned long)p + len, rss_kib,
           path ? " " : "", path ? path : "");
}

static int make_file(const char *dir, const char *name, size_t len, char *path, size_t plen)
{
    snprintf(path, plen, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die(path);
    unsigned char buf[4096];
    for (size_t off = 0; off < len; off += sizeof buf) {
        memset(buf, (int)(off / sizeof buf) + 'a', sizeof buf);
        size_t n = len - off < sizeof buf ? len - off : sizeof buf;
        if (write(fd, buf, n) != (ssize_t)n) die("write");
    }
    return fd;
}

int main(int argc, char **argv)
{
    long exit_after_ms = -1, many = 0;
    int a = 1;
    for (; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--exit-after")) exit_after_ms = atol(argv[a + 1]);
        else if (!strcmp(argv[a], "--many")) many = atol(argv[a + 1]);
        else break;
    }
    if (a >= argc) {
        fprintf(stderr, "usage: map_target [--exit-after MS] [--many N] DIR [ARG...]\n");
        return 2;
    }
    const char *dir = argv[a];
    page = (size_t)sysconf(_SC_PAGESIZE);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char path[4096];
    unsigned sum = 0;

    /* 8 MiB private anonymous, the first 5 MiB written. No huge pages, so
     * Rss is exactly the pages touched. */
    size_t big = 8u << 20;
    unsigned char *anon = map_fenced(big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    madvise(anon, big, MADV_NOHUGEPAGE);
    touch_write(anon, 5u << 20);
    report("anon8m", anon, big, 5120, NULL);

    /* 64 KiB file, read-only, every page read. */
    int fd = make_file(dir, "data64k.bin", 64u << 10, path, sizeof path);
    unsigned char *f64 = map_fenced(64u << 10, PROT_READ, MAP_PRIVATE, fd);
    close(fd);
    sum += read_all(f64, 64u << 10);
    report("file64k", f64, 64u << 10, 64, path);

    /* A file whose name holds spaces, one of them leading the basename. */
    fd = make_file(dir, " name with space.bin", 2 * page, path, sizeof path);
    unsigned char *fsp = map_fenced(2 * page, PROT_READ, MAP_PRIVATE, fd);
    close(fd);
    sum += read_all(fsp, 2 * page);
    report("space", fsp, 2 * page, 2 * page / 1024, path);

    /* A file mapped, then removed: the kernel shows " (deleted)". */
    fd = make_file(dir, "deleted.bin", 3 * page, path, sizeof path);
    unsigned char *fdl = map_fenced(3 * page, PROT_READ, MAP_PRIVATE, fd);
    close(fd);
    sum += read_all(fdl, 3 * page);
    if (unlink(path)) die("unlink");
    report("deleted", fdl, 3 * page, 3 * page / 1024, path);

    /* Read-only anonymous, never touched: no resident pages. */
    unsigned char *ro = map_fenced(4 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    report("anon_ro", ro, 4 * page, 0, NULL);

    /* A named anonymous mapping (Linux 5.17+, CONFIG_ANON_VMA_NAME). */
    unsigned char *named = map_fenced(3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    touch_write(named, 3 * page);
    if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)named, 3 * page, (unsigned long)"msnap-test"))
        printf("ANON_NAME unsupported: %s\n", strerror(errno));
    else
        report("anon_named", named, 3 * page, 3 * page / 1024, "[anon:msnap-test]");

    /* A memfd, shared, every page written. */
    fd = memfd_create("msnap-memfd", MFD_CLOEXEC);
    if (fd < 0) die("memfd_create");
    if (ftruncate(fd, (off_t)(5 * page))) die("ftruncate");
    unsigned char *mfd = map_fenced(5 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    close(fd);
    touch_write(mfd, 5 * page);
    report("memfd", mfd, 5 * page, 5 * page / 1024, "/memfd:msnap-memfd");

    /* Shared anonymous memory (shmem behind the scenes), every page written. */
    unsigned char *shr = map_fenced(6 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
    touch_write(shr, 6 * page);
    report("shared_anon", shr, 6 * page, 6 * page / 1024, NULL);

    if (many > 0) {
        /* irregular sizes (1-16 pages) and resident counts, so the
         * snapshot does not compress to almost nothing */
        uint32_t rng = 12345;
        size_t *pages = calloc((size_t)many, sizeof *pages), total = 0;
        if (!pages) die("calloc");
        for (long i = 0; i < many; i++) {
            rng = rng * 1103515245u + 12345u;
            pages[i] = 1 + (rng >> 16) % 16;
            total += pages[i];
        }
        unsigned char *m = map_fenced(total * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        madvise(m, total * page, MADV_NOHUGEPAGE);
        unsigned char *q = m;
        for (long i = 0; i < many; i++) {
            rng = rng * 1103515245u + 12345u;
            size_t touched = (rng >> 16) % (pages[i] + 1);
            touch_write(q, touched * page);
            if (i % 2 && mprotect(q, pages[i] * page, PROT_READ)) die("mprotect");
            q += pages[i] * page;
        }
        free(pages);
        printf("MANY %ld %lx %lx\n", many, (unsigned long)m, (unsigned long)q);
    }
    printf("SUM %u\nREADY\n", sum);
    fflush(stdout);
    if (exit_after_ms >= 0) {
        struct timespec ts = {exit_after_ms / 1000, (exit_after_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) && errno == EINTR) {
        }
        return 0;
    }
    for (;;) pause();
}
