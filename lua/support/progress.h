/* progress.h - progress reporters for bindings of long C loops (support/progress.c). */
#ifndef LCL_PROGRESS_H
#define LCL_PROGRESS_H

#include <lua.h>

#include "base/progress.h"

/* A progress reporter for long C loops; aborts on Ctrl-C. On a terminal (stderr): a bar with
 * percentage, count, rate and ETA, unless verbose = false/0. Otherwise nothing, or with
 * verbose = true/1 one summary line when the task ends (2: also a line every 10%). The state
 * lives in the userdata pushed on the stack (pop it after the C call). `opts` is an options
 * table index or 0: reads `verbose` (boolean or 0/1/2; anything else is an error). */
cl_progress *lcl_progress_new(lua_State *L, int opts);
/* Ends the reporter's current task now (the bar's final state and newline, or the summary
 * line): call it right after the C loop returns, so a loop that stops early (convergence,
 * early stopping, an error) does not leave its bar open until the userdata is collected. */
void lcl_progress_end(cl_progress *p);

#endif
