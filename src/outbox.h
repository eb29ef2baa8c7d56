/*
 * outbox.h
 *     Writing events to leasemgr.event_outbox (outbox.c), for the triggers of the changes they
 *     report, and the small JSON builder their payloads use.
 */
#ifndef LEASEMGR_OUTBOX_H
#define LEASEMGR_OUTBOX_H

#include "lib/stringinfo.h"

/* Prepare an appender for the outbox; false when the database has no outbox yet (0.1.0). */
extern bool lm_outbox_init(LmAppender *a, MemoryContext cxt);

/* Append one event (payload: a jsonb Datum); returns its id. NOTIFY separately. */
extern int64 lm_outbox_emit(LmAppender *a, Datum park_id, const char *topic, int64 subject_id, Datum payload);

/* NOTIFY leasemgr_events with the newest event id of the statement. */
extern void lm_outbox_notify(int64 last_id);

/*
 * A JSON object built as text: start with appendStringInfoChar(js, '{'), add members, then
 * lm_json_finish gives the jsonb Datum. lm_json_text quotes (NULL: null); lm_json_raw writes a
 * number or boolean as given.
 */
extern void lm_json_text(StringInfo js, const char *key, const char *value);
extern void lm_json_raw(StringInfo js, const char *key, const char *value);
extern Datum lm_json_finish(StringInfo js);

#endif							/* LEASEMGR_OUTBOX_H */
