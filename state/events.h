/* events: the vocabulary of the journal, shared by the engine that writes
 * events and by everything that reads them (show, export, watch, resume).
 *
 * Every event row has a type (below), an actor (the operator name given
 * with --operator, else the OS user name; "qrh" for what qrh did on its
 * own) and a JSON payload. Step events carry the step's index in the row's
 * `step` column and these payload members:
 *
 *   run_start        written by journal_run_create (run_sha256)
 *   run_resume       {"runbook_changed": bool, "os_user", "uid"}
 *   step_confirm     {"step_id", "how": "enter"|"typed"|"yes-flag"|"auto",
 *                     "os_user", "uid", "operator"}
 *                    auto: the step has confirm=no
 *   step_start       {"step_id", "attempt"}
 *   action_start     {"step_id", "attempt", "action", "kind",
 *                     "command" (what runs, secrets masked as ***)}
 *   action_end       {"step_id", "attempt", "action", "status",
 *                     "exit_code", "signal", "duration_ms", "summary"}
 *   step_end         {"step_id", "attempt", "status", "exit_code",
 *                     "duration_ms", "summary",
 *                     "stdout_bytes", "stdout_sha256", "stdout_truncated",
 *                     "stdout_lost",
 *                     "stderr_bytes", "stderr_sha256", "stderr_truncated",
 *                     "stderr_lost"}
 *                    status: ok | failed | timeout | cancelled
 *                    truncated: the cap dropped bytes between head and
 *                    tail; lost: bytes the journal could not store (absent
 *                    in events written before qrh recorded it)
 *   step_retry       {"step_id", "attempt" (the next one), "backoff_ms"}
 *   step_skip        {"step_id", "reason"}
 *   step_done_by_hand {"step_id", "note"}
 *   step_interrupted {"step_id", "attempt"}  written by resume for a step
 *                    that was running when qrh died: outcome unknown
 *   capture          {"step_id", "name", "value"} (no value when secret)
 *   background_start {"step_id", "name", "command"}
 *   background_end   {"step_id", "name", "exit_code", "signal",
 *                     "duration_ms", "task", "stdout": {"bytes", "sha256",
 *                     "truncated", "lost"}, "stderr": {...}}
 *                    a background action's output is keyed by a task of
 *                    its own (a resumed run may start it again); journals
 *                    written before that carry flat "stdout_bytes", ...
 *                    and key it by (step, attempt 0)
 *   dry_run          {"step_id", "commands": [...]}
 *   note             {"text"}
 *   hangup           {} SIGHUP: the operator's terminal went away
 *   signal           {"signal": "SIGINT"|"SIGTERM"}
 *   run_end          {"outcome", "duration_ms"} via journal_run_end
 *
 * Durations are milliseconds from the monotonic clock; "attempt" counts
 * from 1. Output is stored per (step, attempt, stream); a background
 * process's output is stored under its step with attempt 0 and a task
 * number of its own (a retry of the step does not start it again, a
 * resumed run may).
 *
 * With tasks (schema 2), output is stored per (task, stream) and the event
 * that ends a task carries "task": N and, per stream, an object
 *     "stdout": {"bytes", "sha256", "truncated", "lost"}   ("stderr" alike)
 * instead of the flat stdout_* members above. Readers (verify, show,
 * export) accept both forms. */
#ifndef QRH_STATE_EVENTS_H
#define QRH_STATE_EVENTS_H

#define EV_RUN_START "run_start"
#define EV_RUN_RESUME "run_resume"
#define EV_STEP_CONFIRM "step_confirm"
#define EV_STEP_START "step_start"
#define EV_ACTION_START "action_start"
#define EV_ACTION_END "action_end"
#define EV_STEP_END "step_end"
#define EV_STEP_RETRY "step_retry"
#define EV_STEP_SKIP "step_skip"
#define EV_STEP_DONE_BY_HAND "step_done_by_hand"
#define EV_STEP_INTERRUPTED "step_interrupted"
#define EV_CAPTURE "capture"
#define EV_BACKGROUND_START "background_start"
#define EV_BACKGROUND_END "background_end"
#define EV_DRY_RUN "dry_run"
#define EV_NOTE "note"
#define EV_HANGUP "hangup"
#define EV_SIGNAL "signal"
#define EV_RUN_END "run_end"

#define BACKGROUND_ATTEMPT 0

#endif
