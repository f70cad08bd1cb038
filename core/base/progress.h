/* progress.h - progress reporting and cancellation for long loops.
 *
 * Long core routines (fits, loaders, generators) take a `const cl_progress *` (NULL = silent)
 * and call cl_progress_step at natural points. The host supplies the callback: it draws a
 * progress bar and returns nonzero to abort (Ctrl-C). Loops without a callback may still poll
 * cl_progress_interrupted(), the one process-wide flag a signal handler can set.
 */
#ifndef CL_PROGRESS_H
#define CL_PROGRESS_H

/* Return nonzero to abort the routine. `done` and `total` are in the task's unit (epochs,
 * trees, bytes); total <= 0 means unknown. `detail` is a short status ("loss 0.4123") or NULL. */
typedef int (*cl_progress_fn)(void *ud, const char *task, double done, double total,
                              const char *detail);

typedef struct cl_progress {
    cl_progress_fn fn;
    void *ud;
} cl_progress;

/* Reports progress; returns CL_EINTR (with a message naming the task) when the callback asks
 * to stop or cl_progress_interrupted() is set, CL_OK otherwise. p may be NULL. */
int cl_progress_step(const cl_progress *p, const char *task, double done, double total,
                     const char *detail);

/* The interrupt flag: set from a signal handler (async-signal-safe), polled by loops. */
void cl_progress_interrupt(void);
int cl_progress_interrupted(void);
void cl_progress_interrupt_clear(void);

#endif
