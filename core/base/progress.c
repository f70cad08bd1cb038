/* progress.c - progress callback plumbing and the interrupt flag. */
#include "base/progress.h"
#include "base/error.h"

#include <signal.h>

static volatile sig_atomic_t interrupt_flag;

void cl_progress_interrupt(void) { interrupt_flag = 1; }
int cl_progress_interrupted(void) { return interrupt_flag != 0; }
void cl_progress_interrupt_clear(void) { interrupt_flag = 0; }

int cl_progress_step(const cl_progress *p, const char *task, double done, double total,
                     const char *detail)
{
    int stop = interrupt_flag != 0;
    if (!stop && p && p->fn)
        stop = p->fn(p->ud, task, done, total, detail) != 0;
    if (stop)
        return cl_error(CL_EINTR, "%s: interrupted", task ? task : "operation");
    return CL_OK;
}
