/* livelog.h - the durable event log of a live state: SQLite in WAL mode, one row per batch.
 *
 * An event is acknowledged only once the transaction holding its batch has committed, and a
 * commit waits for fsync (synchronous = FULL): NORMAL would survive kill -9 as well (the WAL is
 * written before the commit returns), but could lose the last acknowledged batches on a power
 * cut, and an acknowledgement is a promise. One transaction per batch keeps the fsync cost per
 * batch, not per event. A batch is one row (a blob of fixed-size little-endian records), so it
 * is in the log entirely or not at all, never in part and never twice.
 *
 * Restart = snapshot + log: cl_livelog_rebuild loads the snapshot file (a cl_livestate image
 * whose tag is the last batch it covers) and applies the batches after it.
 *
 * The log remembers the configuration it was made with (a fingerprint of the empty state:
 * plans, list prices, catalog, max_user) and refuses to be opened with another.
 *
 * Ownership: cl_livelog_open returns an owned handle closed by cl_livelog_close.
 */
#ifndef CL_LIVELOG_H
#define CL_LIVELOG_H

#include <stdint.h>

#include "live/livestate.h"

typedef struct cl_livelog cl_livelog;

/* Opens or creates the log at path for a state made with cfg. */
int cl_livelog_open(cl_livelog **out, const char *path, const cl_livestate_config *cfg);
void cl_livelog_close(cl_livelog *g);

/* Appends n events as one batch in one committed transaction; *seq gets its sequence number
 * (1, 2, ...). n == 0 writes nothing (and *seq is the last one). */
int cl_livelog_append(cl_livelog *g, const cl_live_event *ev, int64_t n, int64_t *seq);
/* The same, committed without an fsync (synchronous=NORMAL in WAL): it survives kill -9 (the
 * OS holds the pages), not a power cut, until the next cl_livelog_append or cl_livelog_sync,
 * whose fsync of the WAL makes it durable too. For the slices of one ingest (lua/bind/live.c)
 * whose last commit is synchronous. */
int cl_livelog_append_unsynced(cl_livelog *g, const cl_live_event *ev, int64_t n, int64_t *seq);
/* Makes every unsynced batch durable (an fsync); nothing to do when there is none. Appends,
 * syncs and counts may come from different threads (they take the log's mutex): a served
 * ingest syncs outside the state's lock while POST /api/events appends under it. */
int cl_livelog_sync(cl_livelog *g);
/* Sequence number of the last batch (0 when empty) and the number of events logged. */
int64_t cl_livelog_last(const cl_livelog *g);
int64_t cl_livelog_count(cl_livelog *g);

/* Calls fn for every batch with seq > after, in order; stops at fn's first non-zero status.
 * ev is borrowed for the call. */
int cl_livelog_each(cl_livelog *g, int64_t after,
                    int (*fn)(void *ctx, int64_t seq, const cl_live_event *ev, int64_t n),
                    void *ctx);

/* The state as of the log: the snapshot at snap_path when it exists (else an empty state
 * from cfg) plus every later batch. A batch refused on replay, a snapshot newer than the log
 * or a corrupted snapshot is an error naming it. */
int cl_livelog_rebuild(cl_livelog *g, const char *snap_path, const cl_livestate_config *cfg,
                       cl_livestate **out);
/* Writes the state's image atomically (temp + fsync + rename) to path, tagged with seq (the
 * last batch the state holds). */
int cl_livelog_snapshot(const cl_livestate *s, int64_t seq, const char *path);

#endif
