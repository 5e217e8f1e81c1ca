/* team_note.c: notes through the team database (state/team_note.h). */
#include <stdlib.h>
#include <string.h>

#include "state/team.h"
#include "state/team_note.h"

static int run_ended(PGconn *c, const char *uuid, struct err *e)
{
	const char *v[] = { uuid };
	PGresult *r = team_query(c, "SELECT EXISTS (SELECT 1 FROM qrh.events WHERE run_uuid = "
			    "$1::uuid AND type = 'run_end')", 1, v, "cannot read the run", e);
	if (!r)
		return -1;
	int ended = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return ended;
}

int team_note_send(PGconn *c, const char *uuid, const char *text,
		   char id[UUID_TEXT_LEN + 1], struct err *e)
{
	size_t len = strlen(text);
	if (!len || strspn(text, " \t\n") == len)
		return err_set(e, "the note is empty");
	if (len > TEAM_NOTE_MAX)
		return err_set(e, "the note has %zu bytes: at most %d", len, TEAM_NOTE_MAX);
	int ended = run_ended(c, uuid, e);
	if (ended)
		return ended < 0 ? -1 : err_set(e, "run %s has ended: it takes no more notes", uuid);
	const char *v[] = { uuid, text };
	return team_insert_id(c, "INSERT INTO qrh.notes (run_uuid, text) VALUES ($1::uuid, $2) "
			      "RETURNING id::text", 2, v, "cannot send the note", id, e);
}

int team_note_journaled(PGconn *c, const char *uuid, const char *id,
			int timeout_ms, int64_t *seq, struct err *e)
{
	const char *v[] = { uuid, id };
	PGresult *r = team_poll(c, "SELECT seq::text FROM qrh.events WHERE run_uuid = $1::uuid "
			   "AND type = 'note' AND payload::json->>'note_id' = $2 LIMIT 1", 2, v,
			   timeout_ms, "cannot read the run's events", e);
	if (!r)
		return -1;
	int found = PQntuples(r) == 1;
	if (found)
		*seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return found;
}
