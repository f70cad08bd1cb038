/* event_json.h - one JSON-lines event -> a live event (cl_live_event), the one parser of the
 * JSON event format: the service's POST /api/events and the Lua side (s:ingest_jsonl,
 * churnlab.livefollow on .jsonl files) both go through it, so a line means the same thing
 * wherever it arrives.
 *
 * A line is one JSON object with the columns of events.csv as fields: user_id, day, event,
 * title_id, minutes, completion, detail (plan_change: the plan's name; price_change: the new
 * price, a number), device; rating: rating (title_id optional); profile: signup_day, plan,
 * monthly_price, discount_pct. Unknown fields are refused by name. The state's own checks
 * (ranges, catalog, windows) are cl_livestate_apply's. */
#ifndef CL_SERVE_EVENT_JSON_H
#define CL_SERVE_EVENT_JSON_H

#include <stddef.h>

#include "live/livestate.h"

/* Parses text[0..len) (one line, without its newline) into e. Returns NULL when it is an
 * event, else the reason it is refused ("field 'day': expected an integer", "malformed JSON
 * at column 3: ..."), written to msg (cap bytes) or a string constant. The state s is read
 * only, for the plan names. */
const char *cl_event_json_parse(const cl_livestate *s, const char *text, size_t len,
                                cl_live_event *e, char *msg, size_t cap);

/* Whether text[0..len) is blank (spaces, tabs, a CR): such lines are skipped, not refused. */
int cl_event_json_blank(const char *text, size_t len);

#endif
