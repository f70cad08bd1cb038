/* event_json.c - one JSON-lines event -> a live event (event_json.h). Moved here from the
 * service's POST /api/events handler so the Lua side parses the same format with the same
 * code. */
#include "serve/event_json.h"

#include "base/error.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* One JSON event -> e; NULL or the reason it is refused. */
static const char *event_of(const cl_livestate *s, json_t *o, cl_live_event *e, char *msg, size_t cap)
{
    static const char *const known[] = {"user_id", "day", "signup_day", "event", "title_id",
                                        "minutes", "completion", "rating", "plan",
                                        "monthly_price", "discount_pct", "detail", "device", NULL};
    memset(e, 0, sizeof *e);
    if (!json_is_object(o))
        return "expected a JSON object";
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        int ok = 0;
        for (const char *const *n = known; *n; n++)
            ok |= strcmp(*n, k) == 0;
        if (!ok) {
            snprintf(msg, cap, "unknown field '%.40s'", k);
            return msg;
        }
    }
    json_t *ev = json_object_get(o, "event");
    if (!json_is_string(ev) || !(e->kind = cl_livestate_kind(json_string_value(ev)))) {
        snprintf(msg, cap, "field 'event': unknown event '%.40s' (events: watch, ticket, "
                           "payment_failed, plan_change, price_change, cancel, rating, profile)",
                 json_is_string(ev) ? json_string_value(ev) : "(missing)");
        return msg;
    }
#define INTFIELD(name, dst) \
    do { \
        json_t *x_ = json_object_get(o, name); \
        if (!json_is_integer(x_) || json_integer_value(x_) < -2147483647LL || \
            json_integer_value(x_) > 2147483647LL) \
            return "field '" name "': expected an integer"; \
        dst = (int32_t)json_integer_value(x_); \
    } while (0)
    INTFIELD("user_id", e->user);
    if (e->kind == CL_LIVE_PROFILE)
        INTFIELD("signup_day", e->day);
    else
        INTFIELD("day", e->day);
    if (e->kind == CL_LIVE_WATCH)
        INTFIELD("title_id", e->title);
#undef INTFIELD
    json_t *x;
    e->minutes = json_is_number(x = json_object_get(o, "minutes")) ? json_number_value(x) : NAN;
    e->completion = json_is_number(x = json_object_get(o, "completion")) ? json_number_value(x) : NAN;
    if (e->kind == CL_LIVE_RATING) {
        e->value = json_is_number(x = json_object_get(o, "rating")) ? json_number_value(x) : NAN;
        if (json_is_integer(x = json_object_get(o, "title_id")))
            e->title = (int32_t)json_integer_value(x);
    } else if (e->kind == CL_LIVE_PROFILE || e->kind == CL_LIVE_PLAN) {
        const char *field = e->kind == CL_LIVE_PLAN ? "detail" : "plan";
        x = json_object_get(o, field);
        if (!json_is_string(x)) {
            snprintf(msg, cap, "field '%s': expected the plan's name", field);
            return msg;
        }
        if ((e->plan = cl_livestate_plan(s, json_string_value(x))) < 0) {
            snprintf(msg, cap, "field '%s': %s", field, cl_error_last());
            return msg;
        }
        if (e->kind == CL_LIVE_PROFILE) {
            e->value = json_is_number(x = json_object_get(o, "monthly_price")) ? json_number_value(x) : NAN;
            x = json_object_get(o, "discount_pct");
            e->value2 = !x ? 0 : json_is_number(x) ? json_number_value(x) : NAN;
        }
    } else if (e->kind == CL_LIVE_PRICE) {
        x = json_object_get(o, "detail");
        if (!json_is_number(x))
            return "field 'detail': expected the new price (a number)";
        e->value = json_number_value(x);
    }
    return NULL;
}

int cl_event_json_blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
            return 0;
    return 1;
}

const char *cl_event_json_parse(const cl_livestate *s, const char *text, size_t len,
                                cl_live_event *e, char *msg, size_t cap)
{
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        memset(e, 0, sizeof *e);
        snprintf(msg, cap, "malformed JSON at column %d: %s", je.column, je.text);
        return msg;
    }
    const char *why = event_of(s, o, e, msg, cap);
    json_decref(o);
    return why;
}
