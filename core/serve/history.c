/* history.c - the customers' risk histories in SQLite (WAL), so the dashboard's risk-over-time
 * of a customer survives a restart and kill -9 (service_impl.h: svc_hist_*). One row per
 * (customer, day): the risk the monitor last saw that day. The monitor thread writes the rows
 * that changed since its last refresh in one transaction, outside the state's lock. */
#include "serve/service_impl.h"

#include "base/error.h"

#include <sqlite3.h>
#include <stdio.h>

static int db_fail(cl_service *svc, const char *what)
{
    return cl_error(CL_EIO, "serve: risk history %s: %s: %s", svc->cfg.history_path, what,
                    svc->hdb ? sqlite3_errmsg(svc->hdb) : "cannot open");
}

/* Reads every stored point into the customers' histories (oldest first, the last SVC_HIST
 * days kept, as the monitor keeps them). */
static int load_points(cl_service *svc)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(svc->hdb, "SELECT user, day, risk FROM risk_history ORDER BY user, day",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(svc, "read");
    int rc = CL_OK, s;
    pthread_mutex_lock(&svc->hist_mu);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t u = sqlite3_column_int64(st, 0), day = sqlite3_column_int64(st, 1);
        if (u < 1 || u > svc->max_user || day < INT32_MIN || day > INT32_MAX)
            continue; /* a customer this state does not have: kept in the file, not shown */
        cl_service_hist_record(svc, (int32_t)u, (int32_t)day, sqlite3_column_double(st, 2));
    }
    pthread_mutex_unlock(&svc->hist_mu);
    if (s != SQLITE_DONE)
        rc = db_fail(svc, "read");
    sqlite3_finalize(st);
    return rc;
}

int cl_history_open(cl_service *svc)
{
    const char *path = svc->cfg.history_path;
    if (sqlite3_open_v2(path, &svc->hdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        return db_fail(svc, "open");
    /* synchronous=NORMAL in WAL: a killed process loses nothing committed (the OS has the
     * pages); a power cut may lose the last refreshes, which the next ones write again */
    char *err = NULL;
    if (sqlite3_exec(svc->hdb,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=2000;"
                     "CREATE TABLE IF NOT EXISTS risk_history (user INTEGER NOT NULL, day INTEGER "
                     "NOT NULL, risk REAL NOT NULL, PRIMARY KEY (user, day)) WITHOUT ROWID;",
                     NULL, NULL, &err) != SQLITE_OK) {
        int rc = cl_error(CL_EIO, "serve: risk history %s: %s", path, err ? err : "?");
        sqlite3_free(err);
        return rc;
    }
    return load_points(svc);
}

int cl_history_commit(cl_service *svc, const int32_t *users, const double *risk, const uint8_t *changed,
                  int64_t n, int32_t day)
{
    if (!svc->hdb)
        return CL_OK;
    sqlite3_stmt *st = NULL;
    int rc = CL_OK;
    if (sqlite3_exec(svc->hdb, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(svc->hdb, "INSERT OR REPLACE INTO risk_history VALUES (?, ?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        rc = db_fail(svc, "write");
    for (int64_t i = 0; rc == CL_OK && i < n; i++) {
        if (!changed[i])
            continue;
        sqlite3_bind_int64(st, 1, users[i]);
        sqlite3_bind_int64(st, 2, day);
        sqlite3_bind_double(st, 3, (double)(float)risk[i]); /* what the history holds */
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(svc, "write");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    /* older than any history shows: gone */
    if (rc == CL_OK && day != svc->hdb_pruned) {
        sqlite3_stmt *del = NULL;
        if (sqlite3_prepare_v2(svc->hdb, "DELETE FROM risk_history WHERE day <= ?", -1, &del,
                               NULL) != SQLITE_OK)
            rc = db_fail(svc, "prune");
        else {
            sqlite3_bind_int64(del, 1, (int64_t)day - SVC_HIST);
            if (sqlite3_step(del) != SQLITE_DONE)
                rc = db_fail(svc, "prune");
            sqlite3_finalize(del);
        }
        svc->hdb_pruned = day;
    }
    if (sqlite3_exec(svc->hdb, rc == CL_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK &&
        rc == CL_OK)
        rc = db_fail(svc, "commit");
    return rc;
}

void cl_history_close(cl_service *svc)
{
    if (svc->hdb)
        sqlite3_close(svc->hdb);
    svc->hdb = NULL;
}
