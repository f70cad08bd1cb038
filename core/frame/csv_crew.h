/* csv_crew.h - the CSV reader's threads (csvio.c): started once per read, given one job at a
 * time.
 *
 * Owner: frame helper.
 *
 * Threads live for the whole read and wait for each job on a condition variable (a batch or
 * a block's scan is a fraction of a millisecond; starting threads for each one cost a good
 * part of that, and on a loaded machine much more). No spinning: on a machine shared with
 * other work, OpenMP's spinning barriers made two threads slower than one. A job is
 * fn(arg, t) on every member, t = 0 the caller, 1..n the workers; a worker that could not
 * start is simply not a member, so a job must not depend on how many members run it.
 */
#ifndef CL_CSV_CREW_H
#define CL_CSV_CREW_H

typedef struct cl_csv_crew cl_csv_crew;

/* A crew of up to nt - 1 (<= 63) workers; NULL, or fewer workers, when they cannot start
 * (the caller's thread then does the work). */
cl_csv_crew *cl_csv_crew_start(int nt);
/* Stops the workers and frees the crew; NULL is fine. */
void cl_csv_crew_stop(cl_csv_crew *c);
/* Members of the crew: the caller and the workers running (1 when c is NULL). */
int cl_csv_crew_members(const cl_csv_crew *c);
/* Runs fn(arg, t) on the caller (t = 0) and on every worker (t = 1..), and returns when all
 * are done. c may be NULL (the caller alone). */
void cl_csv_crew_run(cl_csv_crew *c, void (*fn)(void *arg, int t), void *arg);

#endif
