/* synth_buf.h - a growable text buffer for the synthetic world's CSV and README output.
 *
 * Its own file so that the simulation (synth.c), the file writers (synth_write.c) and the
 * replays (synth_replay.c) all lean on it without leaning on each other. Errors are sticky:
 * after a failed allocation err is 1 and further appends do nothing, so a writer checks once.
 */
#ifndef CL_SYNTH_BUF_H
#define CL_SYNTH_BUF_H

#include <stddef.h>

typedef struct synth_buf {
    char *p;
    size_t n, cap;
    int err;
} synth_buf;

void cl_synth_buf_reserve(synth_buf *b, size_t extra);
void cl_synth_buf_str(synth_buf *b, const char *s);
void cl_synth_buf_ch(synth_buf *b, char c);
void cl_synth_buf_int(synth_buf *b, long long v);
void cl_synth_buf_fixed(synth_buf *b, double v, int decimals); /* locale-independent */
void cl_synth_buf_free(synth_buf *b);

#endif
