/* team_note: a team member's note on a run, through the team database
 * (`qrh note --team`, the a key of `qrh watch --team`). The note is a row
 * of qrh.notes (the server stamps who: session_user); the qrh running the
 * run journals it, with the role as its author, when the runbook says
 * `notes: anyone` (state/approval.c). Blocking: for a command or a key
 * press, not the loop. */
#ifndef QRH_STATE_TEAM_NOTE_H
#define QRH_STATE_TEAM_NOTE_H

#include <libpq-fe.h>
#include <stdint.h>

#include "util/err.h"
#include "util/uuid.h"

/* Longer notes are refused, not cut: a note is a line or a paragraph. */
#define TEAM_NOTE_MAX 4000

/* Inserts `text` as a note on run `uuid`; refused when the run has ended
 * or the text is empty or too long. *id gets the row's UUID. */
int team_note_send(PGconn *c, const char *uuid, const char *text,
		   char id[UUID_TEXT_LEN + 1], struct err *e);
/* Waits up to timeout_ms for the running qrh to journal note `id`: 1 and
 * the event's seq, 0 not (yet), -1 an error. */
int team_note_journaled(PGconn *c, const char *uuid, const char *id,
			int timeout_ms, int64_t *seq, struct err *e);

#endif
