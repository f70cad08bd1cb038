/* livelog.c - the durable event log (livelog.h) on SQLite. */
#include "live/livelog.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#define REC 56 /* bytes per event record in a batch blob */
#define SNAP_MAX ((size_t)1 << 36)

struct cl_livelog {
    sqlite3 *db;
    sqlite3_stmt *ins;
    char *path;
    int64_t last;
    int unsynced; /* batches committed without an fsync since the last synchronous commit */
    /* appends, syncs and counts one at a time: a served ingest makes its slices durable
     * (cl_livelog_sync) outside the state's lock, while POST /api/events may append */
    pthread_mutex_t mu;
};

static int db_error(cl_livelog *g, const char *what)
{
    return cl_error(CL_EIO, "live log '%s': %s: %s", g->path, what,
                    g->db ? sqlite3_errmsg(g->db) : "cannot open");
}

static int exec(cl_livelog *g, const char *sql)
{
    return sqlite3_exec(g->db, sql, NULL, NULL, NULL) == SQLITE_OK ? CL_OK : db_error(g, sql);
}

/* The fingerprint of a configuration: CRC-32 of the image of an empty state made from it. */
static int fingerprint(const cl_livestate_config *cfg, uint32_t *out)
{
    cl_livestate *s = NULL;
    int rc = cl_livestate_new(&s, cfg);
    if (rc)
        return rc;
    uint8_t *img = NULL;
    size_t len = 0;
    rc = cl_livestate_serialize(s, 0, &img, &len);
    cl_livestate_free(s);
    if (rc)
        return rc;
    *out = cl_fileio_crc32(0, img, len - 4); /* not the trailer: a CRC over data + its CRC is constant */
    cl_alloc_free(img);
    return CL_OK;
}

void cl_livelog_close(cl_livelog *g)
{
    if (!g)
        return;
    sqlite3_finalize(g->ins);
    sqlite3_close(g->db);
    cl_alloc_free(g->path);
    pthread_mutex_destroy(&g->mu);
    cl_alloc_free(g);
}

int cl_livelog_open(cl_livelog **out, const char *path, const cl_livestate_config *cfg)
{
    *out = NULL;
    uint32_t fp = 0;
    int rc = fingerprint(cfg, &fp);
    if (rc)
        return rc;
    cl_livelog *g = cl_alloc_calloc(1, sizeof *g);
    if (g)
        pthread_mutex_init(&g->mu, NULL);
    if (!g || !(g->path = cl_alloc_strdup(path))) {
        if (g)
            pthread_mutex_destroy(&g->mu);
        cl_alloc_free(g);
        return CL_ENOMEM;
    }
    if (sqlite3_open_v2(path, &g->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = db_error(g, "open");
        cl_livelog_close(g);
        return rc;
    }
    sqlite3_busy_timeout(g->db, 5000);
    if ((rc = exec(g, "PRAGMA journal_mode=WAL")) || (rc = exec(g, "PRAGMA synchronous=FULL")) ||
        (rc = exec(g, "CREATE TABLE IF NOT EXISTS batches(seq INTEGER PRIMARY KEY, "
                      "n INTEGER NOT NULL, events BLOB NOT NULL)")) ||
        (rc = exec(g, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER)"))) {
        cl_livelog_close(g);
        return rc;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(g->db, "SELECT value FROM meta WHERE key='config'", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = db_error(g, "read meta");
        cl_livelog_close(g);
        return rc;
    }
    int have = sqlite3_step(st) == SQLITE_ROW;
    int64_t stored = have ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (have && stored != (int64_t)fp) {
        rc = cl_error(CL_EINVAL,
                      "live log '%s' was written by a state with another configuration (plans, "
                      "prices, titles or max_user)",
                      path);
        cl_livelog_close(g);
        return rc;
    }
    if (!have) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO meta VALUES('config', %lld)", (long long)fp);
        if ((rc = exec(g, sql))) {
            cl_livelog_close(g);
            return rc;
        }
    }
    if (sqlite3_prepare_v2(g->db, "SELECT coalesce(max(seq), 0) FROM batches", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        rc = db_error(g, "read the last batch");
        cl_livelog_close(g);
        return rc;
    }
    g->last = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(g->db, "INSERT INTO batches(seq, n, events) VALUES(?, ?, ?)", -1,
                           &g->ins, NULL) != SQLITE_OK) {
        rc = db_error(g, "prepare");
        cl_livelog_close(g);
        return rc;
    }
    *out = g;
    return CL_OK;
}

int64_t cl_livelog_last(const cl_livelog *g) { return g->last; }

int64_t cl_livelog_count(cl_livelog *g)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    pthread_mutex_lock(&g->mu);
    if (sqlite3_prepare_v2(g->db, "SELECT coalesce(sum(n), 0) FROM batches", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&g->mu);
    return n;
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void lef(uint8_t *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    le64(p, u);
}
static double rdf(const uint8_t *p)
{
    uint64_t u = rd64(p);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static int append_locked(cl_livelog *g, const cl_live_event *ev, int64_t n, int64_t *seq)
{
    *seq = g->last;
    if (n <= 0)
        return CL_OK;
    size_t bytes;
    if (!cl_alloc_mul_size((size_t)n, REC, &bytes) || bytes > INT32_MAX)
        return cl_error(CL_ERANGE, "live log: batch of %lld events is too large", (long long)n);
    uint8_t *blob = cl_alloc(bytes);
    if (!blob)
        return CL_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        uint8_t *p = blob + (size_t)i * REC;
        const cl_live_event *e = &ev[i];
        le32(p, (uint32_t)e->user);
        le32(p + 4, (uint32_t)e->day);
        le32(p + 8, (uint32_t)e->kind);
        le32(p + 12, (uint32_t)e->title);
        le32(p + 16, (uint32_t)e->plan);
        le32(p + 20, 0);
        lef(p + 24, e->minutes);
        lef(p + 32, e->completion);
        lef(p + 40, e->value);
        lef(p + 48, e->value2);
    }
    int rc = CL_OK;
    int64_t s = g->last + 1;
    if ((rc = exec(g, "BEGIN IMMEDIATE")) == CL_OK) {
        sqlite3_reset(g->ins);
        sqlite3_bind_int64(g->ins, 1, s);
        sqlite3_bind_int64(g->ins, 2, n);
        sqlite3_bind_blob(g->ins, 3, blob, (int)bytes, SQLITE_STATIC);
        if (sqlite3_step(g->ins) != SQLITE_DONE) {
            rc = db_error(g, "append");
            sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
        } else {
            rc = exec(g, "COMMIT");
            if (rc)
                sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
        }
        sqlite3_reset(g->ins);
        sqlite3_clear_bindings(g->ins);
    }
    cl_alloc_free(blob);
    if (rc)
        return rc;
    g->last = s;
    *seq = s;
    g->unsynced = 0; /* a synchronous commit fsyncs the WAL: every earlier frame with it */
    return CL_OK;
}

int cl_livelog_append(cl_livelog *g, const cl_live_event *ev, int64_t n, int64_t *seq)
{
    pthread_mutex_lock(&g->mu);
    int rc = append_locked(g, ev, n, seq);
    pthread_mutex_unlock(&g->mu);
    return rc;
}

int cl_livelog_append_unsynced(cl_livelog *g, const cl_live_event *ev, int64_t n, int64_t *seq)
{
    pthread_mutex_lock(&g->mu);
    int rc = exec(g, "PRAGMA synchronous=NORMAL");
    if (rc == CL_OK)
        rc = append_locked(g, ev, n, seq);
    int rc2 = exec(g, "PRAGMA synchronous=FULL");
    if (rc == CL_OK && n > 0)
        g->unsynced = 1;
    pthread_mutex_unlock(&g->mu);
    return rc ? rc : rc2;
}

int cl_livelog_sync(cl_livelog *g)
{
    pthread_mutex_lock(&g->mu);
    int rc = CL_OK;
    /* a checkpoint syncs the WAL before it copies frames back (synchronous=FULL) */
    if (g->unsynced &&
        sqlite3_wal_checkpoint_v2(g->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) != SQLITE_OK)
        rc = db_error(g, "sync");
    else
        g->unsynced = 0;
    pthread_mutex_unlock(&g->mu);
    return rc;
}

int cl_livelog_each(cl_livelog *g, int64_t after,
                    int (*fn)(void *ctx, int64_t seq, const cl_live_event *ev, int64_t n),
                    void *ctx)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(g->db, "SELECT seq, n, events FROM batches WHERE seq > ? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(g, "read");
    sqlite3_bind_int64(st, 1, after);
    int rc = CL_OK, step;
    cl_live_event *ev = NULL;
    int64_t cap = 0;
    while (rc == CL_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 1);
        const uint8_t *blob = sqlite3_column_blob(st, 2);
        int64_t bytes = sqlite3_column_bytes(st, 2);
        if (n < 1 || bytes != n * REC || !blob) {
            rc = cl_error(CL_EFORMAT, "live log '%s': batch %lld is malformed", g->path,
                          (long long)seq);
            break;
        }
        if (n > cap) {
            cl_alloc_free(ev);
            if (!(ev = cl_alloc((size_t)n * sizeof *ev))) {
                rc = CL_ENOMEM;
                break;
            }
            cap = n;
        }
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *p = blob + i * REC;
            cl_live_event *e = &ev[i];
            e->user = (int32_t)rd32(p);
            e->day = (int32_t)rd32(p + 4);
            e->kind = (int32_t)rd32(p + 8);
            e->title = (int32_t)rd32(p + 12);
            e->plan = (int32_t)rd32(p + 16);
            e->pad_ = 0;
            e->minutes = rdf(p + 24);
            e->completion = rdf(p + 32);
            e->value = rdf(p + 40);
            e->value2 = rdf(p + 48);
        }
        rc = fn(ctx, seq, ev, n);
    }
    if (rc == CL_OK && step != SQLITE_DONE)
        rc = db_error(g, "read");
    cl_alloc_free(ev);
    sqlite3_finalize(st);
    return rc;
}

static int replay_batch(void *ctx, int64_t seq, const cl_live_event *ev, int64_t n)
{
    cl_livestate *s = ctx;
    for (int64_t i = 0; i < n; i++) {
        int rc = cl_livestate_apply(s, &ev[i]);
        if (rc)
            return cl_error_wrap(rc == CL_ENOMEM ? rc : CL_EFORMAT,
                                 "live log: batch %lld, event %lld refused on replay",
                                 (long long)seq, (long long)i + 1);
    }
    return CL_OK;
}

int cl_livelog_rebuild(cl_livelog *g, const char *snap_path, const cl_livestate_config *cfg,
                       cl_livestate **out)
{
    *out = NULL;
    cl_livestate *s = NULL;
    int64_t tag = 0;
    int rc;
    struct stat sb;
    if (snap_path && stat(snap_path, &sb) == 0) {
        char *img = NULL;
        size_t len = 0;
        if ((rc = cl_fileio_read(snap_path, SNAP_MAX, &img, &len)))
            return rc;
        rc = cl_livestate_restore(&s, (const uint8_t *)img, len, &tag);
        cl_alloc_free(img);
        if (rc)
            return cl_error_wrap(rc, "snapshot '%s'", snap_path);
        if (tag < 0 || tag > g->last) {
            cl_livestate_free(s);
            return cl_error(CL_EFORMAT,
                            "snapshot '%s' covers batch %lld but the log '%s' ends at %lld",
                            snap_path, (long long)tag, g->path, (long long)g->last);
        }
    } else if ((rc = cl_livestate_new(&s, cfg))) {
        return rc;
    }
    if ((rc = cl_livelog_each(g, tag, replay_batch, s))) {
        cl_livestate_free(s);
        return rc;
    }
    *out = s;
    return CL_OK;
}

int cl_livelog_snapshot(const cl_livestate *s, int64_t seq, const char *path)
{
    uint8_t *img = NULL;
    size_t len = 0;
    int rc = cl_livestate_serialize(s, seq, &img, &len);
    if (rc)
        return rc;
    rc = cl_fileio_write_atomic(path, img, len);
    cl_alloc_free(img);
    return rc;
}
