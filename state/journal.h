/* journal: the SQLite record of every run — the evidence of a drill or an
 * incident.
 *
 * What it promises
 *  - One database file, WAL mode, synchronous=FULL, busy_timeout 5000 ms,
 *    foreign keys on, STRICT tables. The schema carries a version
 *    (PRAGMA user_version); journal_open applies the missing migrations in
 *    one transaction and refuses a journal written by a newer qrh.
 *  - Events are append-only and hash-chained per run (see "Hash encoding"
 *    below). Appending an event is one committed, fsynced transaction: when
 *    journal_event_append returns 0 the event survives kill -9 and power
 *    loss.
 *  - journal_verify runs PRAGMA integrity_check and recomputes every chain,
 *    naming the first broken event.
 *  - Output is stored per stream, keyed by the task that produced it
 *    (run, task, stream) or, in journals written before tasks, by the
 *    step attempt (run, step, attempt, stream); see struct journal_okey.
 *    Each stream is capped:
 *    the first QRH_OUTPUT_HEAD_BYTES and the last QRH_OUTPUT_TAIL_BYTES are
 *    kept, with total bytes and SHA-256 of the whole stream. Memory is
 *    bounded however long a stream runs: at most JOURNAL_FLUSH_BYTES of
 *    unwritten head bytes over all streams, plus one tail ring of
 *    QRH_OUTPUT_TAIL_BYTES per open stream that has passed its head.
 *    Appending costs SHA-256 and a memcpy; SQLite sees each head byte once
 *    and the tail about once a second.
 *  - The journal never sees secrets: callers redact before calling, and
 *    nothing here logs or prints a value. Library code never prints.
 *
 * Durability, exactly
 *  - Events, run creation and journal_run_end: durable on return (own
 *    transaction, synchronous=FULL, so the WAL is fsynced at commit).
 *  - Output, head (the first QRH_OUTPUT_HEAD_BYTES of a stream): buffered
 *    in memory and written once, as rows, by a flush: when
 *    JOURNAL_FLUSH_BYTES are buffered, when the oldest buffered byte is
 *    JOURNAL_FLUSH_INTERVAL_MS old and the caller calls journal_flush_due
 *    or appends again, on journal_flush, and before every event.
 *  - Output, tail: kept in a ring in memory; a snapshot of the ring
 *    replaces the previous one on disk when the oldest byte not yet in a
 *    snapshot is JOURNAL_TAIL_INTERVAL_MS old (checked by every append and
 *    by journal_flush_due: the event loop should poll with
 *    journal_flush_timeout_ms), on journal_flush, journal_run_end and
 *    journal_output_finish. Events do not force a snapshot.
 *  - Output writes are transactions committed with synchronous=NORMAL:
 *    they survive kill -9 at once, and power loss as soon as the next
 *    event commits (that fsync covers every earlier WAL frame).
 *  - So after kill -9 an unfinished stream reads back as its head and its
 *    last snapshot: what is lost is at most the head bytes of the last
 *    JOURNAL_FLUSH_INTERVAL_MS and the tail bytes of the last
 *    JOURNAL_TAIL_INTERVAL_MS (plus the time until the caller's next
 *    append or timer). journal_output_read shows such a stream as
 *    unfinished, with the bytes stored so far as its total. Total bytes
 *    and the stream's SHA-256 exist only after journal_output_finish; the
 *    caller puts them in the step's end event.
 *
 * Hash encoding (version 1). For a field value v define
 *     enc(bytes b) = u64be(len(b)) || b
 *     enc(int64 i) = enc(i64be(i))          (so: 00 00 00 00 00 00 00 08 + 8 bytes)
 *     enc(NULL)    = ff ff ff ff ff ff ff ff (no bytes follow; no real length)
 * An event's hash is the lowercase hex SHA-256 of
 *     enc("qrh.event.v1") || enc(run_id) || enc(seq) || enc(wall_ms) ||
 *     enc(mono_ns) || enc(step, or NULL) || enc(type) || enc(actor) ||
 *     enc(payload) || enc(prev_hash as 64 lowercase hex ASCII bytes)
 * Every field is length-prefixed and the field list is fixed, so no two
 * different events encode alike. Triggers also refuse UPDATE and DELETE on
 * events, against accidents; verify is what catches intent. The chain is per run: seq runs 1, 2, ...
 * with no gap, and the prev_hash of seq 1 is 64 '0' characters. Per run so
 * that a run's export is self-contained and verifiable alone. The run row
 * itself is bound into the chain: event 1 (type "run_start", written by
 * journal_run_create) carries "run_sha256", the SHA-256 of (ints as
 * above, runbook_text from the runbooks table, where each distinct text is
 * stored once under its SHA-256)
 *     enc("qrh.run.v1") || enc(id) || enc(runbook_path) ||
 *     enc(runbook_sha256) || enc(runbook_text) || enc(title) ||
 *     enc(operator) || enc(os_user) || enc(uid) || enc(host) || enc(mode) ||
 *     enc(started_at) || enc(vars)
 * A hash chain cannot see a truncated tail or a rewrite from some event on:
 * the runs row keeps the head (seq, hash), which verify checks, and front
 * ends should show and export the head so it can be anchored elsewhere.
 *
 * Processes
 *  - Never use a journal across fork(): the connection belongs to the
 *    process that opened it. Every call made from another pid fails with an
 *    error, and journal_close in a forked child frees nothing of SQLite's
 *    (closing could checkpoint or unlink files under the parent's feet).
 *  - Children do not inherit the database: SQLite's unix VFS opens the
 *    database, -wal and -shm with O_CLOEXEC (checked by test_journal).
 *  - One writer at a time per run, enforced (see "ownership" below); any
 *    number of journal_open_ro readers.
 *
 * Ownership: struct journal is owned by the caller between journal_open
 * and journal_close. Strings passed in are copied or used only during the
 * call. Structs filled by the journal own their strings until the matching
 * _release call. Pointers handed to callbacks live only during the call. */
#ifndef QRH_JOURNAL_H
#define QRH_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define JOURNAL_SCHEMA_VERSION 3
#define JOURNAL_HASH_LEN 64
#define JOURNAL_NO_STEP (-1)

#define QRH_OUTPUT_HEAD_BYTES (2 * 1024 * 1024)
#define QRH_OUTPUT_TAIL_BYTES (2 * 1024 * 1024)
#define JOURNAL_FLUSH_BYTES (64 * 1024)
#define JOURNAL_FLUSH_INTERVAL_MS 100
#define JOURNAL_TAIL_INTERVAL_MS 1000

struct journal;

/* ---- opening ---- */

/* Resolve the journal path: cli_path (--journal) if non-NULL, else
 * $QRH_JOURNAL, else $XDG_STATE_HOME/qrh/journal.db (absolute only),
 * else $HOME/.local/state/qrh/journal.db. Caller frees. */
char *journal_path_default(const char *cli_path, struct err *e);

/* Open for writing, creating parent directories (0700) and the schema. */
struct journal *journal_open(const char *path, struct err *e);
/* Open an existing journal read-only (watchers, verify, show, export). */
struct journal *journal_open_ro(const char *path, struct err *e);
/* Flushes buffered output (errors dropped: call journal_flush first to see
 * them) and closes. NULL is a no-op. */
void journal_close(struct journal *j);
int journal_schema_version(struct journal *j, struct err *e);
/* Is the file this writer opened still the journal at its path? -1 with
 * the reason when it was unlinked (st_nlink 0, or the path is gone) or
 * replaced (the path names another inode): whatever is written now goes
 * nowhere anyone will find it. 0 for read-only handles. The engine asks
 * before each step starts. */
int journal_file_check(struct journal *j, struct err *e);

/* ---- runs ---- */

struct journal_run_new {
	const char *runbook_path;
	const char *runbook_text;	/* full text; the journal hashes it */
	size_t runbook_len;
	const char *title;
	const char *operator_name;	/* who the operator says they are */
	const char *os_user;		/* from the OS */
	int64_t uid;
	const char *host;
	const char *mode;		/* "live", "drill" or "dry-run" */
	const char *vars_json;		/* non-secret objectives/vars; NULL = {} */
	int64_t started_ms;		/* wall clock */
	int64_t mono_ns;		/* monotonic clock at start */
	const char *boot_id;		/* clock_boot_id; NULL or "": unknown */
	const char *uuid;		/* the run's global name; NULL: a new
					 * one (journal_team.h) */
};

struct journal_head {
	int64_t seq;			/* 0 when a run has no events */
	char hash[JOURNAL_HASH_LEN + 1];
};

struct journal_run {
	int64_t id;
	char *runbook_path;
	char runbook_sha256[JOURNAL_HASH_LEN + 1];
	char *runbook_text;		/* NULL in journal_runs_list */
	size_t runbook_len;
	char *title;
	char *operator_name;
	char *os_user;
	int64_t uid;
	char *host;
	char *mode;
	char *vars_json;
	int64_t started_ms;
	int64_t ended_ms;		/* 0 while running */
	char *outcome;			/* NULL while running */
	struct journal_head head;
};

/* Insert a run and its first event, seq 1 "run_start" (actor: operator),
 * in one transaction, and take the run's lock (see ownership below)
 * before it commits. The caller must not append its own run_start. */
int journal_run_create(struct journal *j, const struct journal_run_new *r,
		       int64_t *run_id, struct journal_head *head,
		       struct err *e);
/* Returns 1 and fills *out, 0 if no such run, -1 on error. */
int journal_run_get(struct journal *j, int64_t run_id, struct journal_run *out,
		    struct err *e);
void journal_run_release(struct journal_run *r);
/* All runs, newest first, without runbook text. */
int journal_runs_list(struct journal *j, struct journal_run **runs, size_t *n,
		      struct err *e);
void journal_runs_free(struct journal_run *runs, size_t n);
/* The newest run with no outcome: 1 found, 0 none, -1 error. */
int journal_run_find_unfinished(struct journal *j, int64_t *run_id,
				struct err *e);

struct journal_event;
/* Append `ev` (type "run_end", required: the outcome is evidence only on
 * the chain) and set outcome ("ok", "failed", "aborted", "interrupted")
 * and ended_at, in one transaction. After it, the run takes no event. */
int journal_run_end(struct journal *j, int64_t run_id, const char *outcome,
		    int64_t ended_ms, struct journal_event *ev, struct err *e);

/* ---- ownership: one writer per run ----
 *
 * A run has exactly one owner at a time: the process that holds an
 * exclusive flock(2) on "<journal path>-run-<id>.lock", a file beside the
 * journal (mode 0600, opened O_NOFOLLOW and O_CLOEXEC so no child inherits
 * it). The kernel releases it when the owner exits, kill -9 included, so
 * a crashed run can be resumed and a running one cannot be taken over.
 * The file holds the owner's pid, host, boot id, operator and start time
 * (JSON), and a refused locker is told who holds the run:
 *     "run 3 is being run by alice (pid 812 on host h1) since 14:02:11"
 * journal_run_create takes the lock of the new run inside its creating
 * transaction, before commit, so no other process ever sees an unowned
 * new run. Events and output of a run are refused from a handle that does
 * not own it. Readers (journal_open_ro: watch, list, show, verify,
 * export) take no lock. The lock belongs to the struct journal that took
 * it: a second handle in the same process is refused like another
 * process. */
/* Take ownership of an existing run without waiting: 0 (also when this
 * handle already owns it), or -1 with who holds it. Call it before
 * reading the run's state to resume it. */
int journal_run_lock(struct journal *j, int64_t run_id,
		     const char *operator_name, struct err *e);
/* Give it up (the lock file is removed). journal_close gives up all. */
void journal_run_unlock(struct journal *j, int64_t run_id);
/* 1 if this handle owns the run. */
int journal_run_owned(const struct journal *j, int64_t run_id);

/* ---- events ---- */

struct journal_event {
	int64_t run_id;
	int64_t seq;			/* set by append */
	int64_t wall_ms;
	int64_t mono_ns;
	int64_t step;			/* JOURNAL_NO_STEP (stored NULL) or >= 0 */
	const char *type;		/* run_start, step_start, note, ... */
	const char *actor;
	const char *payload;		/* JSON text; NULL means "{}" */
	char prev_hash[JOURNAL_HASH_LEN + 1];	/* set by append */
	char hash[JOURNAL_HASH_LEN + 1];	/* set by append */
};

/* Append several events of one run in one durable transaction: all or
 * none survive a crash. For events that happen at the same instant (a
 * confirmation and the start it causes), so one fsync records them. */
int journal_events_append(struct journal *j, struct journal_event *evs,
			  size_t n, struct err *e);
/* The same, durable against a crash of qrh (kill -9) at once but against
 * power loss only from the next journal_events_append: for facts that
 * matter only while the machine stays up, such as the process group of a
 * task (after a power loss no process survives to be found). Saves an
 * fsync. */
int journal_events_append_lazy(struct journal *j, struct journal_event *evs,
			       size_t n, struct err *e);
/* Append one event in its own durable transaction. Fills ev->seq,
 * ev->prev_hash and ev->hash. Buffered output is flushed first. */
int journal_event_append(struct journal *j, struct journal_event *ev,
			 struct err *e);
/* The last event of a run; seq 0 and the zero hash if it has none. */
int journal_head(struct journal *j, int64_t run_id, struct journal_head *out,
		 struct err *e);

/* Called for each event in seq order; return a positive value to stop
 * (journal_events_each then returns it). The event and its strings are
 * valid only during the call. */
typedef int (*journal_event_fn)(const struct journal_event *ev, void *ctx);
/* Events of a run with seq > after_seq (0 for all: watchers pass the last
 * seq they saw). */
int journal_events_each(struct journal *j, int64_t run_id, int64_t after_seq,
			journal_event_fn fn, void *ctx, struct err *e);

/* The hash of `ev` (its prev_hash included) as defined above. */
void journal_event_hash(const struct journal_event *ev,
			char out[JOURNAL_HASH_LEN + 1]);

/* ---- output ---- */

enum journal_stream {
	JOURNAL_STDOUT = 1,
	JOURNAL_STDERR = 2,
};

struct journal_output_info {
	int64_t total_bytes;	/* whole stream (stored so far, if unfinished) */
	int64_t stored_bytes;	/* output bytes kept (head + tail) */
	int64_t lost_bytes;	/* counted but not stored: the journal could
				 * not be written; shown in the output as
				 * "[N bytes lost: the journal could not be
				 * written]" */
	char sha256[JOURNAL_HASH_LEN + 1];	/* "" until finished */
	int truncated;		/* the cap dropped bytes between head and
				 * tail (lost bytes are not truncation) */
	int finished;
};

/* An output stream's key: the task that produced it (task > 0; new
 * journals), or the step attempt (task == 0: journals written before
 * tasks). step and attempt are recorded with a task's output too.
 * Identity is (run, task, stream) when task > 0, else (run, step,
 * attempt, stream); the label is not part of it: the first append (or
 * finish) of a stream records it, later calls' labels are ignored. A
 * label longer than JOURNAL_LABEL_MAX bytes is cut at a UTF-8 character
 * boundary. */
struct journal_okey {
	int64_t step;      /* >= 0 */
	int attempt;       /* >= 0 */
	int64_t task;      /* 0: legacy key */
	const char *label; /* NULL or "": none; e.g. a fan-out host or a background action's name */
};

#define JOURNAL_LABEL_MAX 63

/* Buffer output of one stream; writes what is due (see Durability). The
 * bytes are counted and hashed even if storing them fails. A failed head
 * write stops storing the stream (the rest is counted as lost); a failed
 * tail snapshot returns -1 and is tried again an interval later. Open
 * streams are found by a hash of their key, so hundreds of concurrent
 * tasks cost no more per append than one. */
int journal_output_append(struct journal *j, int64_t run_id,
			  const struct journal_okey *k,
			  enum journal_stream stream, const void *data,
			  size_t len, struct err *e);
/* Write the pending head and the final tail snapshot, record total bytes,
 * SHA-256 and the truncated flag, and insert the truncation marker. Fills
 * *info (may be NULL) for the end event, even when it returns -1; the
 * stream is closed either way. When it returns -1 (the journal could not
 * be written: locked past the busy timeout, disk full), the head bytes
 * already committed stay, the rest counts as lost, and the stream's
 * record (totals, SHA-256, the loss and its notice in the output) is
 * written by the first flush that succeeds: before the next event, on the
 * flush clock, or at journal_close. *info is what that record says. */
int journal_output_finish(struct journal *j, int64_t run_id,
			  const struct journal_okey *k,
			  enum journal_stream stream,
			  struct journal_output_info *info, struct err *e);
/* Write all buffered head bytes and a snapshot of every changed tail, in
 * one transaction. */
int journal_flush(struct journal *j, struct err *e);
/* Write what is due: head bytes older than the flush interval (then all
 * of them) and tail snapshots older than the tail interval. */
int journal_flush_due(struct journal *j, struct err *e);
/* Milliseconds until a flush or snapshot is due (0: now), -1 if nothing
 * waits: a poll() timeout for the event loop. */
int journal_flush_timeout_ms(const struct journal *j);
/* Read a stream's stored output: head, the marker if truncated, tail.
 * Returns 1 and appends to *out, 0 if there is no such output, -1 error.
 * The key's label is ignored. */
int journal_output_read(struct journal *j, int64_t run_id,
			const struct journal_okey *k,
			enum journal_stream stream, struct buf *out,
			struct journal_output_info *info, struct err *e);

/* The highest task number the run's output uses (0: none), stored or
 * open in this handle: an owner numbers new tasks above it. */
int journal_output_max_task(struct journal *j, int64_t run_id, int64_t *max,
			    struct err *e);

struct journal_output_ref {
	int64_t step;
	int attempt;
	int64_t task;				/* 0: a legacy (step, attempt) key */
	char label[JOURNAL_LABEL_MAX + 1];	/* "" if none */
	enum journal_stream stream;
};
/* Every stored output of a run (step < 0: all steps), ordered by step,
 * attempt, task, stream (stdout first). Caller frees *refs. To read one,
 * pass a key made of its step, attempt and task. */
int journal_output_list(struct journal *j, int64_t run_id, int64_t step,
			struct journal_output_ref **refs, size_t *n,
			struct err *e);

/* What the chain says of a stored stream (state/journal_check.c has the
 * rules). The chain names a finished stream in the event that ends its
 * producer: step_end or background_end (flat stdout_bytes, stdout_sha256,
 * stdout_truncated, stdout_lost; keyed by step attempt, background
 * attempt 0) or an event with "task": N (per stream {"bytes", "sha256",
 * "truncated", "lost"}). */
enum journal_output_trust {
	JOURNAL_OUTPUT_UNCLAIMED = 0,	/* no event names it (yet): a step
					 * still running or cut off by a crash */
	JOURNAL_OUTPUT_MATCHES,		/* the stored copy is what the chain says:
					 * its bytes hash to the chain's SHA-256
					 * when whole, its lengths fit when
					 * truncated or partly lost */
	JOURNAL_OUTPUT_FORGED,		/* it is not: changed, cut or missing */
};

#define JOURNAL_CHECK_DETAIL 200

struct journal_output_verdict {
	enum journal_output_trust trust;
	int64_t seq;			/* the event that names it; 0: none */
	char detail[JOURNAL_CHECK_DETAIL];	/* why, when FORGED */
};

/* Check one stored stream against the chain of its run. 0 and *out
 * filled, -1 on error. */
int journal_output_check(struct journal *j, int64_t run_id,
			 const struct journal_okey *k,
			 enum journal_stream stream,
			 struct journal_output_verdict *out, struct err *e);

/* ---- verify ---- */

enum journal_verify_problem {
	JOURNAL_VERIFY_OK = 0,
	JOURNAL_VERIFY_INTEGRITY,	/* PRAGMA integrity_check failed */
	JOURNAL_VERIFY_NO_RUN,		/* the run asked for does not exist */
	JOURNAL_VERIFY_BAD_ROW,		/* a column has the wrong type */
	JOURNAL_VERIFY_SEQ_GAP,		/* an event is missing (deleted) */
	JOURNAL_VERIFY_REORDERED,	/* rows not in seq order (swapped) */
	JOURNAL_VERIFY_PREV_HASH,	/* prev_hash is not the previous hash */
	JOURNAL_VERIFY_HASH,		/* content does not match its hash */
	JOURNAL_VERIFY_RUN_HEADER,	/* the run row does not match event 1 */
	JOURNAL_VERIFY_HEAD,		/* events end before the recorded head */
	JOURNAL_VERIFY_ORPHAN,		/* events of a run that does not exist */
	JOURNAL_VERIFY_AFTER_END,	/* the chain goes on past run_end */
	JOURNAL_VERIFY_OUTCOME,		/* outcome/ended_at not the chain's */
	JOURNAL_VERIFY_OUTPUT,		/* stored output not the chain's */
};

struct journal_verify_result {
	enum journal_verify_problem problem;
	int64_t run_id;			/* where, when problem != OK */
	int64_t seq;
	int64_t runs_checked;
	int64_t events_checked;
	char detail[256];		/* one lowercase line */
};

/* Check integrity and the chains of one run (run_id > 0) or all (0).
 * Returns 0 when the check ran (see res->problem), -1 on error. */
int journal_verify(struct journal *j, int64_t run_id,
		   struct journal_verify_result *res, struct err *e);
const char *journal_verify_problem_name(enum journal_verify_problem p);

/* ---- for tests and tuning ---- */

struct journal_stats {
	uint64_t commits;		/* transactions committed */
	uint64_t output_flushes;	/* output flush transactions */
	uint64_t output_rows;		/* chunk rows inserted */
	uint64_t tail_snapshots;	/* tail snapshots committed */
	size_t buffered_peak;		/* most head bytes ever buffered */
};
void journal_stats_get(const struct journal *j, struct journal_stats *out);
/* Defaults JOURNAL_FLUSH_BYTES and JOURNAL_FLUSH_INTERVAL_MS. bytes >= 1. */
void journal_flush_policy_set(struct journal *j, size_t bytes,
			      int64_t interval_ms);
/* Default JOURNAL_TAIL_INTERVAL_MS; 0 snapshots on every append. */
void journal_tail_interval_set(struct journal *j, int64_t interval_ms);
/* Tests: after `commits` more commits succeed, every later commit fails
 * as SQLite would with `sqlite_code` (SQLITE_FULL, SQLITE_IOERR, ...):
 * rolled back, with that code's message. A negative count turns it off. */
void journal_fail_after(struct journal *j, int commits, int sqlite_code);

#endif
