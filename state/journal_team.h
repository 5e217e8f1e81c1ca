/* journal_team: the local journal as team mode's outbox.
 *
 * Every run has a UUID beside its local number: journal_run_create puts
 * it in the run_start payload (so the chain binds it) and in team_runs.
 * A run linked to a team database (qrh run --team) is shipped from here,
 * and the journal remembers how far: the header once, events up to a
 * seq, output head chunks up to a row id (head rows are never deleted,
 * so the id only grows), probe samples up to a seq, and each finished
 * stream whose record, tail and markers went. What was not shipped waits
 * here, across restarts, for the database to come back; shipping again
 * what already went is harmless (the central inserts ignore a key they
 * have), so a cursor lost to a crash costs a re-send, never a gap.
 *
 * The batch readers return JSON arrays shaped for PostgreSQL's
 * json_to_recordset: every integer as a string (a double would round a
 * monotonic clock past 2^53), bytes as lowercase hex. Cursor writes are
 * synchronous=NORMAL commits: durable against a crash of qrh, and a
 * power loss only makes a batch go twice. */
#ifndef QRH_STATE_JOURNAL_TEAM_H
#define QRH_STATE_JOURNAL_TEAM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/journal.h"
#include "util/err.h"
#include "util/uuid.h"

/* The run's UUID: 1 and out filled, 0 when the run has none (a run
 * journaled before UUIDs that was never linked), -1 on error. */
int journal_run_uuid(struct journal *j, int64_t run_id,
		     char out[UUID_TEXT_LEN + 1], struct err *e);
/* The local run with this UUID: 1 found, 0 none, -1 error. */
int journal_run_by_uuid(struct journal *j, const char *uuid, int64_t *run_id,
			struct err *e);
/* Marks the run for shipping (an old run without a UUID gets one). */
int journal_team_link(struct journal *j, int64_t run_id,
		      char uuid[UUID_TEXT_LEN + 1], struct err *e);

struct journal_team_state {
	char uuid[UUID_TEXT_LEN + 1];
	bool linked;
	bool header_shipped;
	int64_t events;   /* shipped through this seq */
	int64_t chunks;   /* head chunk rows shipped through this id */
	int64_t samples;  /* probe samples shipped through this seq */
	int64_t head_seq; /* the run's last event */
	int64_t outputs_waiting; /* finished streams not shipped */
};
/* 1 and *st filled, 0 no such run, -1 error. */
int journal_team_state(struct journal *j, int64_t run_id,
		       struct journal_team_state *st, struct err *e);
/* Linked runs with anything left to ship, oldest first (at most max). */
int journal_team_pending(struct journal *j, int64_t *ids, size_t max,
			 size_t *n, struct err *e);

enum journal_team_cursor {
	JOURNAL_TEAM_HEADER,
	JOURNAL_TEAM_EVENTS,
	JOURNAL_TEAM_CHUNKS,
	JOURNAL_TEAM_SAMPLES,
};
/* Moves a cursor forward (never back). */
int journal_team_mark(struct journal *j, int64_t run_id,
		      enum journal_team_cursor which, int64_t value,
		      struct err *e);
int journal_team_mark_outputs(struct journal *j, const int64_t *output_ids,
			      size_t n, struct err *e);

/* The run header as one object: local_id, host, runbook_path,
 * runbook_sha256, runbook_text, title, operator, os_user, uid, mode,
 * started_at, vars. 0, or -1. */
int journal_team_header(struct journal *j, int64_t run_id, cJSON **row,
			struct err *e);
/* Events after seq `after` up to `upto` (at most max_rows rows or about
 * max_bytes): seq, wall_ms, mono_ns, step, type, actor, payload,
 * prev_hash, hash. *last is the last seq given (after when none). */
int journal_team_events(struct journal *j, int64_t run_id, int64_t after,
			int64_t upto, size_t max_rows, size_t max_bytes,
			cJSON **rows, int64_t *last, struct err *e);
/* Head chunk rows after row id `after`: step, attempt, task (0: legacy
 * key), label, stream, part, off, data (hex). *last as above. */
int journal_team_chunks(struct journal *j, int64_t run_id, int64_t after,
			size_t max_rows, size_t max_bytes, cJSON **rows,
			int64_t *last, struct err *e);
/* Finished streams not shipped (at most max): *outputs (step, attempt,
 * task, label, stream, total_bytes, stored_end, lost_bytes, sha256,
 * truncated), *chunks (their tail and marker rows, shaped as above) and
 * their local ids for journal_team_mark_outputs (caller frees). */
int journal_team_outputs(struct journal *j, int64_t run_id, size_t max,
			 cJSON **outputs, cJSON **chunks, int64_t **ids,
			 size_t *n, struct err *e);
/* Probe samples after seq `after`, when the journal has them (none
 * before the probes' migration): seq, probe, wall_ms, mono_ns,
 * duration_ms, late_ms, skipped, result, state, value, values_json. */
int journal_team_samples(struct journal *j, int64_t run_id, int64_t after,
			 size_t max_rows, cJSON **rows, int64_t *last,
			 struct err *e);

/* ---- a mirror: one run copied verbatim from the team database into a
 * journal of its own (qrh watch --team, qrh verify --team), so that the
 * same readers and the same verify work on the central copy. Rows go in
 * as they are, hashes included: nothing is recomputed, so what verify
 * finds wrong is what the central copy has wrong. The run keeps its local
 * number (its hashes cover it). ---- */
struct journal_output_row_info {
	int64_t total_bytes, stored_end, lost_bytes;
	const char *sha256; /* NULL: none */
	int truncated;
};
struct journal_mirror_run {
	int64_t local_id;
	const char *uuid;
	const char *host, *runbook_path, *runbook_text, *title, *operator_name;
	const char *os_user, *mode, *vars;
	size_t runbook_len;
	int64_t uid, started_at;
};
int journal_mirror_run(struct journal *j, const struct journal_mirror_run *r,
		       struct err *e);
/* Events in seq order (their seq, prev_hash and hash as given); a run_end
 * records the outcome and end as journal_run_end would. */
int journal_mirror_events(struct journal *j, const struct journal_event *evs,
			  size_t n, struct err *e);
int journal_mirror_chunk(struct journal *j, int64_t run_id,
			 const struct journal_okey *k, enum journal_stream stream,
			 int part, int64_t off, const void *data, size_t len,
			 struct err *e);
/* A finished stream's record. */
int journal_mirror_output(struct journal *j, int64_t run_id,
			  const struct journal_okey *k, enum journal_stream stream,
			  const struct journal_output_row_info *info, struct err *e);

#endif
