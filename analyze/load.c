/*
 * load.c - .msnap files into the memsnap database: one transaction per
 * file, one prepared INSERT per table reused for every row, every value
 * bound by parameter index straight from the decoded snapshot, following
 * the column table of schema.c (so a new column there is loaded without
 * touching this file).
 *
 * Speed (SCHEMA.md "Loading"): a reader thread decodes each snapshot,
 * classifies its mappings and extracts every value to insert (a "batch"),
 * while this thread only binds and steps: SQLite's work and ours overlap.
 * The statements are prepared once; text that lives in the snapshot is
 * bound without copying (SQLITE_STATIC: the batch outlives the step); a
 * parameter that already holds the value is not bound again; the
 * connection runs without its mutex (one thread uses it).
 */
#include "load.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "category.h"
#include "msnap.h"
#include "schema.h"

#define MAX_TABLES 32
#define MAX_COLS 128

/* What a statement parameter was last bound to (see bind_value). */
typedef struct {
    int kind;        /* VAL_*; VAL_NONE: unknown, bind again */
    int n;           /* text length */
    sqlite3_int64 i; /* VAL_INT */
    const char *p;   /* VAL_TEXT */
    char copy[48];   /* VAL_BUF: the bytes bound */
} bound;

/* Rows per multi-row INSERT: fewer statement executions; the parameter
 * count (rows x columns) stays far below SQLite's limit of 32766. */
#define INSERT_GROUP 32

struct loader {
    sqlite3 *db;                        /* the connection */
    int owns_db;                        /* 1: loader_close closes it */
    int busy_ms;                        /* lock wait, for messages */
    char db_name[256];                  /* for messages: the path, or "database" */
    sqlite3_stmt *ins[MAX_TABLES];      /* INSERT per schema_tables entry (NULL: fixed tables) */
    bound *bound[MAX_TABLES];           /* per INSERT: what each parameter holds */
    sqlite3_stmt *ins_multi[MAX_TABLES];/* INSERT of INSERT_GROUP rows at once (less per-row overhead) */
    bound *bound_multi[MAX_TABLES];     /* what each of its parameters holds */
    sqlite3_stmt *find;                 /* SELECT id FROM snapshots WHERE msnap_id = ? */
    int deferred_indexes;               /* 1: indexes dropped, loader_finish builds them */
    load_progress_fn progress;          /* progress callback, or NULL */
    void *progress_ctx;                 /* its argument */
};

void loader_global_init(void)
{
    /* Memory statistics take a global mutex on every allocation; nothing
     * here reads them. Fails harmlessly once SQLite is initialised. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

sqlite3 *loader_db(loader *L)
{
    return L->db;
}

void loader_set_progress(loader *L, load_progress_fn fn, void *ctx)
{
    L->progress = fn;
    L->progress_ctx = ctx;
}

/* ------------------------------------------------------------- messages */

/* One line for what went wrong with the database: "DB: what[: loss];
 * what to do". `loss` says what was not loaded (NULL: nothing to say). */
static void db_problem(const loader *L, int rc, const char *loss, char *buf, size_t len)
{
    char what[512];
    const char *todo = NULL;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        snprintf(what, sizeof what, "database is locked by another program (waited %d.%d s)", L->busy_ms / 1000,
                 L->busy_ms % 1000 / 100);
        todo = "try again when it is done";
        break;
    case SQLITE_READONLY:
        snprintf(what, sizeof what, "database is read-only (file permissions or a read-only file system)");
        todo = "load into a writable copy or another file (-d)";
        break;
    case SQLITE_FULL:
        snprintf(what, sizeof what, "disk full (the database or its journal could not grow)");
        todo = "free space and load again";
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        snprintf(what, sizeof what, "not a usable SQLite database (%s)", sqlite3_errmsg(L->db));
        todo = "use another file";
        break;
    default: snprintf(what, sizeof what, "%s", sqlite3_errmsg(L->db)); break;
    }
    snprintf(buf, len, "%s: %s%s%s%s%s", L->db_name, what, loss ? ": " : "", loss ? loss : "", todo ? "; " : "",
             todo ? todo : "");
}

/* ---------------------------------------------------------------- open */

static int prepare_all(loader *L, char *err, size_t errlen)
{
    if (schema_ntables > MAX_TABLES) {
        snprintf(err, errlen, "internal: too many tables");
        return -1;
    }
    for (size_t i = 0; i < schema_ntables; i++) {
        if (schema_tables[i].ncols > MAX_COLS) {
            snprintf(err, errlen, "internal: too many columns");
            return -1;
        }
        if (schema_tables[i].row_sec == SCHEMA_FIXED_SEC) continue;
        char *sql = schema_insert_sql(&schema_tables[i]);
        if (!sql) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        int rc = sqlite3_prepare_v3(L->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &L->ins[i], NULL);
        free(sql);
        if (rc == SQLITE_OK && (sql = schema_insert_sql_rows(&schema_tables[i], INSERT_GROUP))) {
            rc = sqlite3_prepare_v3(L->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &L->ins_multi[i], NULL);
            free(sql);
        }
        L->bound[i] = calloc(schema_tables[i].ncols, sizeof(bound));
        L->bound_multi[i] = calloc(schema_tables[i].ncols * INSERT_GROUP, sizeof(bound));
        if (!L->bound[i] || !L->bound_multi[i]) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "%s: preparing the insert into %s: %s", L->db_name, schema_tables[i].name,
                     sqlite3_errmsg(L->db));
            return -1;
        }
    }
    if (sqlite3_prepare_v3(L->db, "SELECT id FROM snapshots WHERE msnap_id = ?1", -1, SQLITE_PREPARE_PERSISTENT,
                           &L->find, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", L->db_name, sqlite3_errmsg(L->db));
        return -1;
    }
    return 0;
}

/* Runs `step` in a write transaction; on failure describes it in err. */
static int in_transaction(loader *L, int (*step)(loader *, char *, size_t), const char *loss, char *err,
                          size_t errlen)
{
    int rc = sqlite3_exec(L->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        db_problem(L, rc, loss, err, errlen);
        return -1;
    }
    char msg[512] = "";
    if (step(L, msg, sizeof msg) < 0) {
        int code = sqlite3_errcode(L->db) & 0xff;
        sqlite3_exec(L->db, "ROLLBACK", NULL, NULL, NULL);
        if (code == SQLITE_FULL || code == SQLITE_READONLY || code == SQLITE_BUSY)
            db_problem(L, code, loss, err, errlen);
        else
            snprintf(err, errlen, "%s: %s", L->db_name, msg);
        return -1;
    }
    rc = sqlite3_exec(L->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        db_problem(L, rc, loss, err, errlen);
        sqlite3_exec(L->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* Creates or upgrades the schema. Into an empty database, rows load
 * faster without indexes, and CREATE INDEX afterwards (one sort) is
 * cheaper than maintaining them row by row: the indexes are dropped here
 * and loader_finish builds them. Otherwise any index that is missing (a
 * load killed before its end) is built now. */
static int setup_step(loader *L, char *msg, size_t len)
{
    if (schema_create(L->db, msg, len) < 0) return -1;
    sqlite3_stmt *st = NULL;
    int empty = 0;
    if (sqlite3_prepare_v2(L->db, "SELECT NOT EXISTS (SELECT 1 FROM snapshots)", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        empty = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    L->deferred_indexes = empty;
    if (empty) return schema_drop_indexes(L->db, msg, len);
    return schema_create_indexes(L->db, msg, len);
}

static int finish_step(loader *L, char *msg, size_t len)
{
    return schema_create_indexes(L->db, msg, len);
}

static int setup(loader *L, char *err, size_t errlen)
{
    if (in_transaction(L, setup_step, "nothing was loaded", err, errlen) < 0) {
        L->deferred_indexes = 0; /* rolled back: the indexes are still there */
        return -1;
    }
    return prepare_all(L, err, errlen);
}

int loader_finish(loader *L, char *err, size_t errlen)
{
    if (!L->deferred_indexes) return 0;
    if (in_transaction(L, finish_step, NULL, err, errlen) < 0) return -1;
    L->deferred_indexes = 0;
    return 0;
}

static loader *loader_new(sqlite3 *db, int owns, const char *name)
{
    loader *L = calloc(1, sizeof *L);
    if (!L) return NULL;
    L->db = db;
    L->owns_db = owns;
    snprintf(L->db_name, sizeof L->db_name, "%s", name);
    return L;
}

loader *loader_open(const char *path, int busy_ms, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open or create the database: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    loader *L = loader_new(db, 1, path);
    if (!L) {
        snprintf(err, errlen, "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    L->busy_ms = busy_ms;
    sqlite3_busy_timeout(db, busy_ms);
    sqlite3_extended_result_codes(db, 1);
    if (sqlite3_db_readonly(db, "main") == 1) {
        db_problem(L, SQLITE_READONLY, "nothing was loaded", err, errlen);
        loader_close(L);
        return NULL;
    }
    /* Load-time settings, per connection (SCHEMA.md "Loading" says why
     * they are safe): the rollback journal stays (a failed file rolls
     * back; the database is one ordinary file); NORMAL syncs at commit
     * but not at every journal write; a 64 MiB page cache keeps a big
     * file's transaction from spilling pages early. page_size only acts
     * on a new database: 16 KiB pages mean a quarter of the writes. */
    char *msg = NULL;
    rc = sqlite3_exec(db,
                      "PRAGMA page_size = 16384;"
                      "PRAGMA synchronous = NORMAL;"
                      "PRAGMA cache_size = -65536;"
                      "PRAGMA temp_store = MEMORY;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_BUSY)
            db_problem(L, rc, "nothing was loaded", err, errlen);
        else
            snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        loader_close(L);
        return NULL;
    }
    if (setup(L, err, errlen) < 0) {
        loader_close(L);
        return NULL;
    }
    return L;
}

loader *loader_attach(sqlite3 *db, char *err, size_t errlen)
{
    const char *fn = sqlite3_db_filename(db, "main");
    loader *L = loader_new(db, 0, fn && *fn ? fn : "database");
    if (!L) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_db_readonly(db, "main") == 1) {
        db_problem(L, SQLITE_READONLY, "nothing was loaded", err, errlen);
        loader_close(L);
        return NULL;
    }
    if (setup(L, err, errlen) < 0) {
        loader_close(L);
        return NULL;
    }
    return L;
}

int loader_close(loader *L)
{
    if (!L) return 0;
    char msg[512];
    int failed = loader_finish(L, msg, sizeof msg) < 0;
    for (size_t i = 0; i < MAX_TABLES; i++) {
        sqlite3_finalize(L->ins[i]);
        sqlite3_finalize(L->ins_multi[i]);
        free(L->bound[i]);
        free(L->bound_multi[i]);
    }
    sqlite3_finalize(L->find);
    int rc = SQLITE_OK;
    if (L->owns_db) rc = sqlite3_close(L->db);
    free(L);
    return rc == SQLITE_OK && !failed ? 0 : -1;
}

/* ------------------------------------------------------------- values */

static const char *const perms_text[32] = {
    /* index: perms bits (0 r, 1 w, 2 x, 3 s, 4 p); both s and p (invalid) print s */
    "----", "r---", "-w--", "rw--", "--x-", "r-x-", "-wx-", "rwx-", "---s", "r--s", "-w-s",
    "rw-s", "--xs", "r-xs", "-wxs", "rwxs", "---p", "r--p", "-w-p", "rw-p", "--xp", "r-xp",
    "-wxp", "rwxp", "---s", "r--s", "-w-s", "rw-s", "--xs", "r-xs", "-wxs", "rwxs",
};

static const char *const diag_words[] = {"complete", "approximate", "unavailable", "best-effort", "info"};

/* A value to bind. Text is in memory that stays put while its batch
 * lives: the snapshot's strings and constants (VAL_TEXT: equal pointers
 * mean equal text) or texts made for the batch (VAL_BUF: compared by
 * bytes). VAL_SNAPSHOT stands for the snapshots.id, known only once the
 * snapshot's row is inserted. */
enum { VAL_NONE = 0, VAL_NULL, VAL_INT, VAL_TEXT, VAL_BUF, VAL_SNAPSHOT };

typedef struct {
    int kind;        /* VAL_* */
    int n;           /* text length, bytes */
    sqlite3_int64 i; /* VAL_INT */
    const char *p;   /* VAL_TEXT, VAL_BUF */
} value;

/* Texts made for one batch, in blocks that never move. */
typedef struct text_block {
    struct text_block *next;
    size_t used, cap;
    char data[];
} text_block;

/* One snapshot ready to insert: every value of every row. */
typedef struct {
    ms_snapshot *s;                                /* owned; VAL_TEXT values point into it */
    int rc;                                        /* MS_ERR_NOMEM: could not be prepared */
    const ms_section *secs[MS_SEC_MAX_KNOWN + 1];  /* by section type; NULL when absent */
    uint64_t off, comp, raw;                       /* record facts */
    uint64_t unknown;                              /* sections of types unknown here */
    char msnap_id[160];                            /* snapshots.msnap_id */
    value *vals[MAX_TABLES];                       /* per table: nrows * ncols, row-major */
    size_t nrows[MAX_TABLES];                      /* per table */
    text_block *texts;                             /* made texts */
} batch;

static void batch_free(batch *b)
{
    if (!b) return;
    for (size_t i = 0; i < MAX_TABLES; i++) free(b->vals[i]);
    for (text_block *t = b->texts, *next; t; t = next) {
        next = t->next;
        free(t);
    }
    ms_snapshot_free(b->s);
    free(b);
}

/* n bytes of text storage in the batch, or NULL. */
static char *batch_text(batch *b, size_t n)
{
    text_block *t = b->texts;
    if (!t || t->cap - t->used < n) {
        size_t cap = n > 16000 ? n : 16000;
        text_block *nt = malloc(sizeof *nt + cap);
        if (!nt) return NULL;
        nt->next = t;
        nt->used = 0;
        nt->cap = cap;
        b->texts = t = nt;
    }
    char *p = t->data + t->used;
    t->used += n;
    return p;
}

static void iso_time(char *buf, size_t len, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, len, "?");
        return;
    }
    size_t k = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, len - k, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
}

/* "%02x" without printf: the device of every mapping goes through here. */
static char *put_hex2(char *p, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = hex[v & 15];
        v >>= 4;
    } while (v);
    if (n < 2) tmp[n++] = '0';
    while (n) *p++ = tmp[--n];
    return p;
}

/* ------------------------------------------------------------ the reader */

#define QUEUE_CAP 4

/* The reader thread's state: the file, its working memory, and the queue
 * of batches it hands to the inserting thread. */
typedef struct {
    ms_reader *r;                  /* read only by the reader thread until joined */
    const char *file;              /* source path */
    const char *writer;            /* file header writer id (lives in r) */
    char format[16];               /* "1.0" */
    category_result *cats;         /* per mapping of the snapshot being prepared */
    size_t cats_cap;               /* entries */
    category_scratch scratch;      /* category_classify's memory */
    pthread_mutex_t mu;            /* guards what follows */
    pthread_cond_t changed;        /* signalled on every push, pop and stop */
    batch *q[QUEUE_CAP];           /* ring of ready batches */
    size_t head, count;            /* ring position and fill */
    int stop;                      /* set by the inserter: give up */
    int finished;                  /* set by the reader when it is done */
    int final_rc;                  /* the reader's last code: MS_ERR_END, _TRUNCATED, an error */
} reader_ctx;

#define SET_NULL(v) ((v)->kind = VAL_NULL)
#define SET_INT(v, x) ((v)->kind = VAL_INT, (v)->i = (sqlite3_int64)(x))
#define SET_TEXT(v, s, len) ((v)->kind = VAL_TEXT, (v)->p = (s), (v)->n = (int)(len))
#define SET_BUF(v, s, len) ((v)->kind = VAL_BUF, (v)->p = (s), (v)->n = (int)(len))

/* The value of column `c` at `row` of the batch's snapshot. Returns 0, or
 * -1 when out of memory. */
static int col_value(reader_ctx *R, batch *b, const schema_column *c, size_t row, value *out)
{
    const ms_section *sec = c->sec && c->sec <= MS_SEC_MAX_KNOWN ? b->secs[c->sec] : NULL;
    uint64_t u, u2;
    int64_t v;
    const char *s;
    size_t n;
    char *t;
    switch (c->src) {
    case SRC_ROWID: SET_NULL(out); break;
    case SRC_SNAPSHOT: out->kind = VAL_SNAPSHOT; break;
    case SRC_ROW: SET_INT(out, row); break;
    case SRC_MSNAP_ID: SET_BUF(out, b->msnap_id, strlen(b->msnap_id)); break;
    case SRC_FILE: SET_TEXT(out, R->file, strlen(R->file)); break;
    case SRC_OFFSET: SET_INT(out, b->off); break;
    case SRC_COMPRESSED: SET_INT(out, b->comp); break;
    case SRC_RAW: SET_INT(out, b->raw); break;
    case SRC_FORMAT: SET_TEXT(out, R->format, strlen(R->format)); break;
    case SRC_WRITER: SET_TEXT(out, R->writer, strlen(R->writer)); break;
    case SRC_U64: /* >= 2^63 wraps to negative, as documented */
        if (ms_get_u64(sec, c->col, row, &u))
            SET_INT(out, u);
        else
            SET_NULL(out);
        break;
    case SRC_I64:
        if (ms_get_i64(sec, c->col, row, &v))
            SET_INT(out, v);
        else
            SET_NULL(out);
        break;
    case SRC_STR:
        if (ms_get_str(sec, c->col, row, &s, &n) && s && n <= INT_MAX)
            SET_TEXT(out, s, n);
        else
            SET_NULL(out);
        break;
    case SRC_KIB:
        if (ms_get_u64(sec, c->col, row, &u) && u <= (uint64_t)INT64_MAX / 1024)
            SET_INT(out, u * 1024);
        else
            SET_NULL(out);
        break;
    case SRC_LIMIT:
        if (ms_get_u64(sec, c->col, row, &u) && u != UINT64_MAX)
            SET_INT(out, u);
        else
            SET_NULL(out);
        break;
    case SRC_BIT:
        if (ms_get_u64(sec, c->col, row, &u))
            SET_INT(out, (u >> c->bit) & 1);
        else
            SET_NULL(out);
        break;
    case SRC_ISO_TIME:
        if (!ms_get_u64(sec, c->col, row, &u) || u == 0) {
            SET_NULL(out);
            break;
        }
        if (!(t = batch_text(b, 40))) return -1;
        iso_time(t, 40, u);
        SET_BUF(out, t, strlen(t));
        break;
    case SRC_PERMS:
        if (ms_get_u64(sec, c->col, row, &u))
            SET_TEXT(out, perms_text[u & 31], 4);
        else
            SET_NULL(out);
        break;
    case SRC_DEV:
        if (!ms_get_u64(sec, c->col, row, &u) || !ms_get_u64(sec, c->col2, row, &u2)) {
            SET_NULL(out);
            break;
        }
        if (!(t = batch_text(b, 34))) return -1;
        s = t;
        t = put_hex2(t, u);
        *t++ = ':';
        t = put_hex2(t, u2);
        SET_BUF(out, s, t - s);
        break;
    case SRC_CMDLINE:
        if (!ms_get_str(sec, c->col, row, &s, &n) || !s || n > INT_MAX) {
            SET_NULL(out);
            break;
        }
        while (n && s[n - 1] == '\0') n--;
        if (!(t = batch_text(b, n + 1))) return -1;
        for (size_t k = 0; k < n; k++) t[k] = s[k] ? s[k] : ' ';
        SET_BUF(out, t, n);
        break;
    case SRC_KV_BYTES:
        if (ms_get_u64(sec, c->col, row, &u) && ms_get_str(sec, c->col2, row, &s, &n) && s && n == 2 &&
            !memcmp(s, "kB", 2) && u <= (uint64_t)INT64_MAX / 1024)
            SET_INT(out, u * 1024);
        else
            SET_NULL(out);
        break;
    case SRC_ROLLUP:
        if (sec && c->arg && ms_kv_find(sec, c->arg, &u) && u <= (uint64_t)INT64_MAX / 1024)
            SET_INT(out, u * 1024);
        else
            SET_NULL(out);
        break;
    case SRC_DIAG_STATUS:
        if (ms_get_u64(sec, c->col, row, &u)) {
            s = u < 5 ? diag_words[u] : "unknown";
            SET_TEXT(out, s, strlen(s));
        } else {
            SET_NULL(out);
        }
        break;
    case SRC_CATEGORY:
        s = category_name(R->cats[row].cat);
        SET_TEXT(out, s, strlen(s));
        break;
    case SRC_QUALIFIED: {
        const char *q;
        size_t qn;
        if (!ms_get_str(sec, c->col, row, &s, &n) || !s || !ms_get_str(sec, c->col2, row, &q, &qn) || !q ||
            n > INT_MAX / 2 || qn > INT_MAX / 2) {
            SET_NULL(out);
            break;
        }
        if (!(t = batch_text(b, n + 1 + qn))) return -1;
        memcpy(t, s, n);
        t[n] = '.';
        memcpy(t + n + 1, q, qn);
        SET_BUF(out, t, n + 1 + qn);
        break;
    }
    case SRC_MODULE:
        if (R->cats[row].module && R->cats[row].module_len <= INT_MAX)
            SET_TEXT(out, R->cats[row].module, R->cats[row].module_len);
        else
            SET_NULL(out);
        break;
    default: SET_NULL(out); break;
    }
    return 0;
}

/* 64-bit FNV-1a over every cell: the identity of a snapshot whose id is
 * missing (a writer bug), so that reloading it is still idempotent. */
static uint64_t content_hash(const ms_snapshot *s)
{
    uint64_t h = 0xcbf29ce484222325u;
#define MIX(byte) (h = (h ^ (unsigned char)(byte)) * 0x100000001b3u)
    for (size_t i = 0; i < ms_snapshot_nsections(s); i++) {
        const ms_section *sec = ms_snapshot_section_at(s, i);
        size_t nrows = ms_section_nrows(sec), ncols = ms_section_ncols(sec);
        for (size_t k = 0; k < ncols; k++) {
            unsigned col;
            ms_coltype ct;
            ms_section_col_at(sec, k, &col, &ct);
            MIX(ms_section_type_of(sec));
            MIX(col);
            for (size_t r = 0; r < nrows; r++) {
                uint64_t u = 0;
                int64_t v = 0;
                const char *p = NULL;
                size_t n = 0;
                if (ct == MS_T_STR) {
                    ms_get_str(sec, col, r, &p, &n);
                    for (size_t q = 0; q < n; q++) MIX(p[q]);
                    MIX(p ? 1 : 0);
                    continue;
                }
                if (ct == MS_T_U64)
                    ms_get_u64(sec, col, r, &u);
                else if (ms_get_i64(sec, col, r, &v))
                    u = (uint64_t)v;
                for (int q = 0; q < 8; q++) MIX(u >> (8 * q));
            }
        }
    }
#undef MIX
    return h;
}

static void make_msnap_id(batch *b)
{
    const char *id;
    size_t n;
    if (ms_get_str(b->secs[MS_SEC_SNAPSHOT], MS_SNAP_ID, 0, &id, &n) && id && n > 0 && n <= 64) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
            b->msnap_id[2 * i] = hex[(unsigned char)id[i] >> 4];
            b->msnap_id[2 * i + 1] = hex[(unsigned char)id[i] & 15];
        }
        b->msnap_id[2 * n] = '\0';
        return;
    }
    snprintf(b->msnap_id, sizeof b->msnap_id, "content-%016" PRIx64, content_hash(b->s));
}

/* 1 if the value of a column of this kind is its source cell (possibly
 * converted): absent cell, NULL value. */
static int reads_cell(schema_src src)
{
    switch (src) {
    case SRC_U64:
    case SRC_I64:
    case SRC_STR:
    case SRC_KIB:
    case SRC_LIMIT:
    case SRC_BIT:
    case SRC_ISO_TIME:
    case SRC_PERMS:
    case SRC_DEV:
    case SRC_CMDLINE:
    case SRC_KV_BYTES:
    case SRC_DIAG_STATUS: return 1;
    default: return 0;
    }
}

/* Fills the batch from its snapshot: sections, id, categories, values.
 * Returns 0, or -1 when out of memory. */
static int batch_fill(reader_ctx *R, batch *b)
{
    size_t nsec = ms_snapshot_nsections(b->s);
    for (size_t i = 0; i < nsec; i++) {
        const ms_section *sec = ms_snapshot_section_at(b->s, i);
        unsigned type = ms_section_type_of(sec);
        if (type >= 1 && type <= MS_SEC_MAX_KNOWN)
            b->secs[type] = sec;
        else
            b->unknown++;
    }
    ms_snapshot_sizes(b->s, &b->off, &b->comp, &b->raw);
    make_msnap_id(b);

    size_t nmaps = ms_section_nrows(b->secs[MS_SEC_MAPPINGS]);
    if (nmaps > R->cats_cap) {
        category_result *p = realloc(R->cats, nmaps * sizeof *p);
        if (!p) return -1;
        R->cats = p;
        R->cats_cap = nmaps;
    }
    if (category_classify(b->s, R->cats, &R->scratch) < 0) return -1;

    unsigned char present[MAX_COLS];
    for (size_t ti = 0; ti < schema_ntables; ti++) {
        const schema_table *t = &schema_tables[ti];
        if (t->row_sec == SCHEMA_FIXED_SEC) continue;
        size_t n = t->row_sec == 0 ? 1 : ms_section_nrows(b->secs[t->row_sec]);
        b->nrows[ti] = n;
        if (n == 0) continue;
        if (n > SIZE_MAX / sizeof(value) / t->ncols) return -1;
        value *v = b->vals[ti] = malloc(n * t->ncols * sizeof *v);
        if (!v) return -1;
        /* columns whose source is absent are NULL without asking the
         * section again for every row */
        for (size_t k = 0; k < t->ncols; k++) {
            const schema_column *c = &t->cols[k];
            const ms_section *sec = c->sec && c->sec <= MS_SEC_MAX_KNOWN ? b->secs[c->sec] : NULL;
            present[k] = (unsigned char)(!reads_cell(c->src) || ms_section_has(sec, c->col));
        }
        for (size_t r = 0; r < n; r++)
            for (size_t k = 0; k < t->ncols; k++, v++) {
                v->kind = VAL_NULL;
                if (present[k] && col_value(R, b, &t->cols[k], r, v) < 0) return -1;
            }
    }
    return 0;
}

/* Hands a batch to the inserter; waits while the queue is full. Returns
 * 0, or -1 if the inserter stopped (the batch is freed). */
static int queue_push(reader_ctx *R, batch *b)
{
    pthread_mutex_lock(&R->mu);
    while (R->count == QUEUE_CAP && !R->stop) pthread_cond_wait(&R->changed, &R->mu);
    int stopped = R->stop;
    if (!stopped) {
        R->q[(R->head + R->count) % QUEUE_CAP] = b;
        R->count++;
        pthread_cond_broadcast(&R->changed);
    }
    pthread_mutex_unlock(&R->mu);
    if (stopped) batch_free(b);
    return stopped ? -1 : 0;
}

/* The next batch, or NULL once the reader has finished and everything
 * it queued was taken. */
static batch *queue_pop(reader_ctx *R)
{
    pthread_mutex_lock(&R->mu);
    while (R->count == 0 && !R->finished) pthread_cond_wait(&R->changed, &R->mu);
    if (R->count == 0) {
        pthread_mutex_unlock(&R->mu);
        return NULL;
    }
    batch *b = R->q[R->head];
    R->head = (R->head + 1) % QUEUE_CAP;
    R->count--;
    pthread_cond_broadcast(&R->changed);
    pthread_mutex_unlock(&R->mu);
    return b;
}

/* Tells the reader to give up and frees what it queued. */
static void queue_stop(reader_ctx *R)
{
    pthread_mutex_lock(&R->mu);
    R->stop = 1;
    while (R->count) {
        batch_free(R->q[R->head]);
        R->head = (R->head + 1) % QUEUE_CAP;
        R->count--;
    }
    pthread_cond_broadcast(&R->changed);
    pthread_mutex_unlock(&R->mu);
}

/* The reader thread: decodes and prepares every snapshot, then records
 * the reader's final code (MS_ERR_END at a clean end) and finishes. */
static void *reader_main(void *arg)
{
    reader_ctx *R = arg;
    int rc;
    for (;;) {
        batch *b = calloc(1, sizeof *b);
        if (!b) {
            rc = MS_ERR_NOMEM;
            break;
        }
        rc = ms_reader_next(R->r, &b->s);
        if (rc != 0) {
            free(b);
            break;
        }
        if (batch_fill(R, b) < 0) b->rc = MS_ERR_NOMEM;
        if (queue_push(R, b) < 0) break; /* the inserter stopped: rc is 0, unused */
    }
    pthread_mutex_lock(&R->mu);
    R->finished = 1;
    R->final_rc = rc;
    pthread_cond_broadcast(&R->changed);
    pthread_mutex_unlock(&R->mu);
    return NULL;
}

/* ------------------------------------------------------------ inserting */

/* Binds `v` as parameter i unless the parameter already holds it:
 * bindings survive sqlite3_reset, and consecutive rows repeat many values
 * (the snapshot id, a library's path, zeros), so most binds are skipped.
 * `b` is what the parameter holds; its pointers are only trusted within
 * one batch (invalidate_bound clears them). */
static int bind_value(sqlite3_stmt *st, int i, bound *b, const value *v)
{
    switch (v->kind) {
    case VAL_NULL:
        if (b->kind == VAL_NULL) return SQLITE_OK;
        b->kind = VAL_NULL;
        return sqlite3_bind_null(st, i);
    case VAL_INT:
        if (b->kind == VAL_INT && b->i == v->i) return SQLITE_OK;
        b->kind = VAL_INT;
        b->i = v->i;
        return sqlite3_bind_int64(st, i, v->i);
    case VAL_TEXT:
        if (b->kind == VAL_TEXT && b->p == v->p && b->n == v->n) return SQLITE_OK;
        b->kind = VAL_TEXT;
        b->p = v->p;
        b->n = v->n;
        return sqlite3_bind_text(st, i, v->p, v->n, SQLITE_STATIC);
    default: /* VAL_BUF: each row has its own copy, so compare the bytes */
        if (b->kind == VAL_BUF && b->n == v->n && !memcmp(b->copy, v->p, (size_t)v->n)) return SQLITE_OK;
        b->kind = v->n <= (int)sizeof b->copy ? VAL_BUF : VAL_NONE;
        b->n = v->n;
        if (b->kind == VAL_BUF) memcpy(b->copy, v->p, (size_t)v->n);
        return sqlite3_bind_text(st, i, v->p, v->n, SQLITE_STATIC);
    }
}

/* Forgets what the parameters hold: pointers into the previous batch must
 * not be compared with (or mistaken for) the next one's. */
static void invalidate_bound(loader *L)
{
    for (size_t ti = 0; ti < schema_ntables; ti++) {
        if (L->bound[ti]) memset(L->bound[ti], 0, schema_tables[ti].ncols * sizeof(bound));
        if (L->bound_multi[ti]) memset(L->bound_multi[ti], 0, schema_tables[ti].ncols * INSERT_GROUP * sizeof(bound));
    }
}

/* Binds row r of table ti from the batch to the parameters of `st` that
 * start at `base` (0 for the first row of a statement). */
static int bind_row(sqlite3_stmt *st, bound *cache, const batch *b, size_t ti, size_t r, int base,
                    sqlite3_int64 snap_id)
{
    const schema_table *t = &schema_tables[ti];
    const value *v = b->vals[ti] + r * t->ncols;
    for (size_t k = 0; k < t->ncols; k++) {
        value sv;
        const value *x = &v[k];
        if (x->kind == VAL_SNAPSHOT) {
            sv.kind = VAL_INT;
            sv.i = snap_id;
            x = &sv;
        }
        int rc = bind_value(st, base + (int)k + 1, &cache[base + k], x);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

/* Inserts rows [r, r + n) of table ti, n being 1 or INSERT_GROUP; returns
 * SQLITE_DONE or an error code. */
static int insert_rows(loader *L, const batch *b, size_t ti, size_t r, size_t n, sqlite3_int64 snap_id)
{
    sqlite3_stmt *st = n == 1 ? L->ins[ti] : L->ins_multi[ti];
    bound *cache = n == 1 ? L->bound[ti] : L->bound_multi[ti];
    int ncols = (int)schema_tables[ti].ncols;
    for (size_t j = 0; j < n; j++) {
        int rc = bind_row(st, cache, b, ti, r + j, (int)j * ncols, snap_id);
        if (rc != SQLITE_OK) return rc;
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
}

/* Inserts a batch. Returns 1 added, 0 already in the database, or a
 * negated SQLite code. */
static int insert_batch(loader *L, const batch *b, load_stats *st)
{
    invalidate_bound(L);
    sqlite3_bind_text(L->find, 1, b->msnap_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(L->find);
    sqlite3_reset(L->find);
    if (rc == SQLITE_ROW) {
        st->skipped++;
        return 0;
    }
    if (rc != SQLITE_DONE) return -rc;

    sqlite3_int64 snap_id = 0;
    uint64_t rows = 0;
    for (size_t ti = 0; ti < schema_ntables; ti++) {
        const schema_table *t = &schema_tables[ti];
        if (t->row_sec == SCHEMA_FIXED_SEC) continue;
        size_t r = 0, nr = b->nrows[ti];
        for (; t->row_sec != 0 && nr - r >= INSERT_GROUP; r += INSERT_GROUP) {
            rc = insert_rows(L, b, ti, r, INSERT_GROUP, snap_id);
            if (rc != SQLITE_DONE) return -rc;
        }
        for (; r < nr; r++) {
            rc = insert_rows(L, b, ti, r, 1, snap_id);
            if (rc != SQLITE_DONE) return -rc;
        }
        if (t->row_sec == 0) snap_id = sqlite3_last_insert_rowid(L->db); /* snapshots comes first */
        rows += b->nrows[ti];
    }
    st->snapshots++;
    st->rows += rows;
    return 1;
}

load_result loader_load_file(loader *L, const char *path, unsigned read_flags, load_stats *st, FILE *err,
                             const char *prog)
{
    char msg[768], why[2048];
    int ecode;
    reader_ctx R = {0};
    R.r = ms_reader_open(path, read_flags, &ecode, msg, sizeof msg);
    if (!R.r) {
        fprintf(err, "%s: %s [%s]: nothing from this file was loaded\n", prog, msg, ms_errname(ecode));
        st->files_failed++;
        return LOAD_FILE_FAILED;
    }
    unsigned major = 0, minor = 0;
    ms_reader_version(R.r, &major, &minor, &R.writer);
    snprintf(R.format, sizeof R.format, "%u.%u", major, minor);
    R.file = path;

    char loss[1100];
    snprintf(loss, sizeof loss, "nothing from %s was loaded", path);
    int rc = sqlite3_exec(L->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        db_problem(L, rc, loss, why, sizeof why);
        fprintf(err, "%s: %s\n", prog, why);
        ms_reader_close(R.r);
        st->files_failed++;
        return LOAD_DB_FAILED;
    }
    pthread_t thread;
    pthread_mutex_init(&R.mu, NULL);
    pthread_cond_init(&R.changed, NULL);
    int thread_err = pthread_create(&thread, NULL, reader_main, &R);
    int started = thread_err == 0;

    load_stats mine = *st;
    uint64_t unknown = 0, nsnap = 0;
    int sqlrc = 0, readrc = MS_ERR_NOMEM;
    while (started) {
        batch *b = queue_pop(&R);
        if (!b) {
            readrc = R.final_rc; /* written before `finished`, under the mutex */
            break;
        }
        if (b->rc) { /* the reader ran out of memory preparing it */
            batch_free(b);
            readrc = MS_ERR_NOMEM;
            break;
        }
        int res = insert_batch(L, b, &mine);
        unknown += b->unknown;
        batch_free(b);
        if (res < 0) {
            sqlrc = -res;
            break;
        }
        nsnap++;
        if (L->progress) L->progress(L->progress_ctx, path, &mine);
    }
    if (started) {
        queue_stop(&R);
        pthread_join(thread, NULL);
    }
    pthread_cond_destroy(&R.changed);
    pthread_mutex_destroy(&R.mu);
    free(R.cats);
    category_scratch_free(&R.scratch);

    if (sqlrc == 0 && readrc != MS_ERR_END && readrc != MS_ERR_TRUNCATED) { /* corrupt or unreadable */
        if (!started)
            fprintf(err, "%s: %s: cannot start a thread: %s: nothing from this file was loaded\n", prog, path,
                    strerror(thread_err));
        else if (readrc == MS_ERR_NOMEM)
            fprintf(err, "%s: %s: out of memory: nothing from this file was loaded\n", prog, path);
        else
            fprintf(err, "%s: %s [%s]: nothing from this file was loaded\n", prog, ms_reader_error(R.r),
                    ms_errname(readrc));
        sqlite3_exec(L->db, "ROLLBACK", NULL, NULL, NULL);
        ms_reader_close(R.r);
        st->files_failed++;
        return LOAD_FILE_FAILED;
    }
    if (sqlrc == 0) {
        sqlrc = sqlite3_exec(L->db, "COMMIT", NULL, NULL, NULL);
        if (sqlrc == SQLITE_OK) sqlrc = 0;
    }
    if (sqlrc != 0) {
        db_problem(L, sqlrc, loss, why, sizeof why);
        if (!sqlite3_get_autocommit(L->db)) sqlite3_exec(L->db, "ROLLBACK", NULL, NULL, NULL);
        fprintf(err, "%s: %s\n", prog, why);
        ms_reader_close(R.r);
        st->files_failed++;
        return LOAD_DB_FAILED;
    }
    load_result result = LOAD_OK;
    if (readrc == MS_ERR_TRUNCATED) {
        fprintf(err, "%s: warning: %s (the %" PRIu64 " complete snapshot%s before it %s loaded)\n", prog,
                ms_reader_error(R.r), nsnap, nsnap == 1 ? "" : "s", nsnap == 1 ? "is" : "are");
        result = LOAD_TRUNCATED;
    }
    if (unknown)
        fprintf(err,
                "%s: note: %s: %" PRIu64 " section%s of types unknown to this memsnap (written by a newer "
                "agent?) %s skipped\n",
                prog, path, unknown, unknown == 1 ? "" : "s", unknown == 1 ? "was" : "were");
    ms_reader_close(R.r);
    mine.files++;
    *st = mine;
    if (L->progress) L->progress(L->progress_ctx, path, st);
    return result;
}
