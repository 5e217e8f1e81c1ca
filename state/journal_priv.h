/* journal_priv: what the journal_*.c files share and nobody else sees.
 *
 * struct journal owns its sqlite3 handle and the in-memory state of open
 * output streams (each owning its pending head bytes, its tail ring and
 * its running SHA-256). */
#ifndef QRH_JOURNAL_PRIV_H
#define QRH_JOURNAL_PRIV_H

#include <sqlite3.h>
#include <sys/types.h>

#include "state/journal.h"
#include "util/sha256.h"

#define JOURNAL_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct journal_ostream {
	int64_t run_id;
	int64_t step;
	int attempt;
	int64_t task;		/* 0: keyed by (step, attempt) */
	char label[JOURNAL_LABEL_MAX + 1];
	enum journal_stream stream;
	size_t pos;		/* index in journal.streams */
	int64_t output_id;	/* row in outputs; 0 until the first write */
	int64_t total;		/* bytes appended (counted and hashed) */
	int64_t flushed;	/* head bytes [0, flushed) committed */
	int64_t lost;		/* bytes counted but never stored */
	struct buf pending;	/* head bytes [flushed, flushed + pending.len) */
	char *ring;		/* the last tail bytes; NULL until past the head */
	size_t ring_len;	/* bytes [total - ring_len, total) are in ring */
	size_t ring_pos;	/* where the next byte goes */
	int64_t tail_dirty_ns;	/* mono time of the oldest byte not in a
				 * committed snapshot; 0: the snapshot is current */
	int snapping;		/* a snapshot is in the open transaction */
	struct sha256 *hash;
	int broken;		/* storing the head failed: count and hash only */
	int closing;		/* finish failed: `final` waits to be recorded */
	int closing_written;	/* ... and is in the open transaction */
	struct journal_output_info final;	/* what finish told the caller */
};

struct journal_lock {
	int64_t run_id;
	int fd;			/* holds the flock */
};

struct journal {
	sqlite3 *db;
	char *path;
	int file_fd;		/* the database file, to notice it unlinked
				 * or replaced; -1 for readers. Closed only
				 * after SQLite's connection: closing any fd of
				 * a file drops the process's POSIX locks on it */
	pid_t pid;
	int readonly;
	struct journal_ostream **streams;	/* open streams, any order */
	size_t nstreams;
	size_t streams_cap;
	struct journal_ostream **index;	/* open addressing over streams */
	size_t index_cap;		/* 0 or a power of two */
	int64_t tail_hint_ns;		/* <= every tail_dirty_ns; 0: none */
	struct journal_claims_cache *claims;	/* journal_check.c's */
	struct journal_lock *locks;	/* the runs this handle owns */
	size_t nlocks;
	size_t locks_cap;
	size_t buffered;		/* pending bytes over all streams */
	size_t nclosing;		/* streams whose finish waits */
	int64_t buffered_since_ns;	/* mono time of the oldest; 0: none */
	size_t flush_bytes;
	int64_t flush_interval_ns;
	int64_t tail_interval_ns;	/* how often a tail snapshot is due */
	struct journal_stats stats;
	int fail_after;   /* tests: commits left before failing; -1: never */
	int fail_code;
};

/* journal.c */
int journal_check_use(struct journal *j, int write, struct err *e);
int journal_sql_err(struct journal *j, struct err *e, const char *what);
/* What a one-row query's last sqlite3_step said: 1 a row, 0 none, or -1
 * with `what` in the message. */
int journal_row_result(struct journal *j, int rc, const char *what,
		       struct err *e);
/* One integer from the first row of a query with at most one parameter
 * (?1 = arg): 1 and *out set, 0 no row, -1 error naming `what`. */
int journal_int_query(struct journal *j, const char *sql, int64_t arg,
		      int64_t *out, const char *what, struct err *e);
int journal_exec(struct journal *j, const char *sql, struct err *e);
/* Inserts one event row as it is (seq and hashes included): no check of
 * the chain. journal_event.c; the mirror copies rows with it. */
struct journal_event;
int journal_event_row_insert(struct journal *j, const struct journal_event *ev,
			     struct err *e);
int journal_prepare(struct journal *j, const char *sql, sqlite3_stmt **st,
		    struct err *e);
int journal_tx_begin(struct journal *j, struct err *e);
int journal_tx_commit(struct journal *j, struct err *e);
void journal_tx_rollback(struct journal *j);
char *journal_column_dup(sqlite3_stmt *st, int col);
int journal_json_check(struct journal *j, const char *what, const char *text,
		       struct err *e);

/* journal_schema.c */
int journal_schema_migrate(struct journal *j, struct err *e);
int journal_schema_check_ro(struct journal *j, struct err *e);

/* journal_event.c */
struct journal_enc {
	struct sha256 *h;
};
void journal_enc_begin(struct journal_enc *enc, const char *domain);
void journal_enc_bytes(struct journal_enc *enc, const void *p, size_t n);
void journal_enc_int(struct journal_enc *enc, int64_t v);
void journal_enc_null(struct journal_enc *enc);
void journal_enc_finish(struct journal_enc *enc, char out[JOURNAL_HASH_LEN + 1]);
void journal_event_hash_raw(int64_t run_id, int64_t seq, int64_t wall_ms,
			    int64_t mono_ns, int has_step, int64_t step,
			    const char *type, size_t type_len,
			    const char *actor, size_t actor_len,
			    const char *payload, size_t payload_len,
			    const char *prev, size_t prev_len,
			    char out[JOURNAL_HASH_LEN + 1]);
int journal_event_insert(struct journal *j, struct journal_event *ev,
			 struct err *e);

/* journal_team.c: the run's UUID, in the run-creating transaction */
int journal_team_uuid_store(struct journal *j, int64_t run_id,
			    const char *uuid, struct err *e);

/* journal_run.c */
int journal_run_digest(struct journal *j, int64_t run_id,
		       char out[JOURNAL_HASH_LEN + 1], struct err *e);

/* journal_streams.c: the open streams, found by key in O(1) */
struct journal_ostream *journal_streams_find(const struct journal *j,
					     int64_t run_id,
					     const struct journal_okey *k,
					     enum journal_stream stream);
void journal_streams_add(struct journal *j, struct journal_ostream *s);
/* Takes s out of the list and the index; the caller frees it. */
void journal_streams_remove(struct journal *j, struct journal_ostream *s);
void journal_streams_free(struct journal *j);

/* journal_check.c: every stream the run's chain names, checked; 0 all
 * match, 1 with the first that does not (its event in *seq), -1 error. */
int journal_check_outputs(struct journal *j, int64_t run_id, int64_t *seq,
			  char detail[JOURNAL_CHECK_DETAIL], struct err *e);
void journal_claims_cache_free(struct journal *j);

/* journal_lock.c */
int journal_run_check_owned(const struct journal *j, int64_t run_id,
			    struct err *e);
void journal_locks_release(struct journal *j);

/* journal_output.c */
/* output_chunks.part: what a chunk row holds. */
enum {
	PART_HEAD = 0,		/* stream bytes below QRH_OUTPUT_HEAD_BYTES */
	PART_MARKER = 1,	/* qrh's "output truncated" line */
	PART_TAIL = 2,		/* the last snapshot of the tail ring */
	PART_LOST = 3,		/* qrh's "bytes lost" line */
};

/* An outputs row as stored. */
struct journal_output_row {
	int64_t id;
	int64_t total;
	int64_t stored_end;	/* stream bytes [0, stored_end) were stored */
	int64_t lost;
	int truncated;
	int finished;
	char sha[JOURNAL_HASH_LEN + 1];
};

const char *journal_stream_name(enum journal_stream s);
/* 1 and *row filled, 0 no such stream, -1 error. */
int journal_output_row_read(struct journal *j, int64_t run_id,
			    const struct journal_okey *k,
			    enum journal_stream stream,
			    struct journal_output_row *row, struct err *e);
/* Something between head and tail was dropped. */
int journal_output_is_truncated(int64_t stored_end);
void journal_output_close_all(struct journal *j);
/* Write pending head bytes, and the tail snapshots that are due (all of
 * them when force_tails): what an event append needs before it commits. */
int journal_output_flush(struct journal *j, int force_tails, struct err *e);

#endif
