/* events: the vocabulary of the journal, shared by the engine that writes
 * events and by everything that reads them (show, export, watch, resume).
 *
 * Every event row has a type (below), an actor (the operator name given
 * with --operator, else the OS user name; "qrh" for what qrh did on its
 * own) and a JSON payload. Step events carry the step's index in the row's
 * `step` column and these payload members:
 *
 *   run_start        written by journal_run_create: {"run_sha256", "mode",
 *                    "boot_id"}; actor: the operator
 *   run_resume       {"runbook_changed": bool, "os_user", "uid",
 *                    "operator", "boot_id"}; actor: the operator resuming
 *                    (another operator than the last one: a handover)
 *   step_confirm     {"step_id", "how": "enter"|"typed"|"yes-flag"|"auto"|
 *                     "rerun-interrupted", "os_user", "uid", "operator",
 *                     "out_of_order": true when an earlier step is not
 *                     settled}; auto: the step has confirm=no
 *   step_start       {"step_id", "attempt"}
 *   action_start     {"step_id", "attempt", "action", "kind", "command"
 *                     (what runs and where, secrets masked as ***),
 *                     "task" (absent for a fan-out), "target" (the
 *                     resolved target, no secrets), "vars" (the non-secret
 *                     values an sh script reads from its environment),
 *                     "fanout": {"group", "members", "parallel",
 *                     "require"} for a fan-out}
 *   task_start       {"step_id", "attempt", "action", "task", "label"}:
 *                    one member of a fan-out starts
 *   task_process     {"task", "pgid", "start_ticks"}: a task's local
 *                    process group, journaled before it runs anything
 *   task_end         {"step_id", "attempt", "action", "task", "label",
 *                     "status", "exit_code", "signal", "duration_ms",
 *                     "summary", "values", "stdout", "stderr"}: a member
 *   action_end       {"step_id", "attempt", "action", "status",
 *                     "exit_code", "signal", "duration_ms", "summary",
 *                     "values", and for one task "task", "stdout",
 *                     "stderr"; for a fan-out "hosts": [{"label",
 *                     "status", "exit_code", "summary"}]}
 *                    status: ok | failed | timeout | cancelled | error |
 *                    unknown
 *   step_end         {"step_id", "attempt", "status", "exit_code",
 *                     "duration_ms" (this attempt's own), "elapsed_ms"
 *                     (from the step's first start), "summary"}
 *                    status: ok | failed | timeout | cancelled
 *   step_retry       {"step_id", "attempt" (the next one), "backoff_ms"}
 *   step_cancel      {"step_id", "attempt", "reason"?}: cancelled while
 *                    waiting to try again; actor: the operator, or qrh
 *                    when a resume finds the retry died with qrh
 *   step_skip        {"step_id", "reason", "elapsed_ms"?}; actor: operator
 *   step_done_by_hand {"step_id", "note", "elapsed_ms"?}; actor: operator
 *   step_interrupted {"step_id", "attempt", "survivors": [{"task", "pgid",
 *                     "command", "started_ms_ago"}]}: written by resume
 *                    for a step that was running when qrh died (outcome
 *                    unknown); survivors are its processes still alive
 *   capture          {"step_id", "name", "value"} (no value when secret);
 *                    "how": "picked" when the operator picked the value
 *                    from the choices an action listed (actor: operator)
 *   background_start {"step_id", "name", "command", "task"}
 *   background_end   {"step_id", "name", "task", "exit_code", "signal",
 *                     "duration_ms", "summary", "stdout", "stderr"}
 *   task_reaped      {"task", "pgid", "how": "gone"|"killed"}: a
 *                    background task of an earlier session, found on
 *                    resume (gone: it had ended; killed: it had survived)
 *   survivor_wait    {"step_id", "pgids", "os_user", "uid", "operator"?}:
 *                    the operator chose to wait for the processes an
 *                    interrupted step left running (process groups
 *                    pgids); actor: the operator
 *   survivor_stop    the same members: the operator chose to stop them
 *                    (SIGTERM to each group, SIGKILL after the grace)
 *   survivor_end     {"step_id", "task", "pgid", "how": "ended"|"stopped"|
 *                     "killed", "after_ms"}: one of them is gone, on its
 *                    own, after the SIGTERM or by the SIGKILL; after_ms
 *                    from the operator's first choice
 *   dry_run          {"step_id", "commands": [...]}
 *   note             {"text"}; actor: who wrote it
 *   hangup           {} SIGHUP: the operator's terminal went away
 *   signal           {"signal": "SIGINT"|"SIGTERM"}
 *   objectives       {"rto": {"budget_ms", "start", "stop"}, "rpo":
 *                     {"budget_ms", "from"}}: right after run_start, what
 *                    the run is measured against; a budget not given is
 *                    null, "start" and "stop" are moments and "from" a
 *                    source as runbooks/probe_spec.h writes them (a step's
 *                    rto_start is "step:ID:start", its rto_stop
 *                    "step:ID:end"), null when none. Runs journaled before
 *                    it keep their budgets in the run row's vars
 *                    ("objectives": {"rto_ms", "rpo_ms"}).
 *   probe_start      {"probe", "kind", "interval_ms", "timeout_ms",
 *                     "command", "target", "value", "ok", "warn", "fail"}:
 *                    polling begins (at the run's start or resume, or at
 *                    its from_step's start); "command" as describe says
 *                    it, secrets masked
 *   probe_state      {"probe", "state", "previous", "value", "sample",
 *                     "result", "summary", "at_wall_ms", "at_mono_ns"}: a
 *                    probe's state changed (the first sample that is not
 *                    unknown is a change); "sample" is the seq of the
 *                    sample in probe_samples, "at_*" the middle of that
 *                    sample's run (the moment an RTO mark uses: the
 *                    check happened between its start and its end)
 *   probe_stop       {"probe", "reason": "until_step"|"run_end"|"shutdown",
 *                     "samples", "skipped"}: polling ends (counts of this
 *                    session)
 *   probe_digest     {"count", "first", "last", "sha256"}: the samples
 *                    first..last of probe_samples (state/journal.h says
 *                    how they are hashed); about every 10 s while probes
 *                    poll, and before a probe_stop, a run_end or a
 *                    shutdown: the ranges follow each other from 1
 *   notify_failed    {"what": "run_start"|"step_end"|"failure"|"run_end"|
 *                     "head", "step_id"?, "attempts", "error"}: a
 *                    notification (runbook notify:) that was never
 *                    delivered, after its retries; never the URL
 *   approval_request {"step_id", "command" (what will run, as the operator
 *                    confirms it, secrets masked), "command_sha256",
 *                    "ttl_ms", "expires_ms", "os_user", "uid",
 *                    "operator", "team_role" (in team mode), "socket"}:
 *                    a dual_control step asks a second identity; actor:
 *                    the operator
 *   approval         {"step_id", "request_seq", "command_sha256", "via":
 *                    "local"|"team", "uid" and "pid" (local: from
 *                    SO_PEERCRED) or "role" (team: session_user),
 *                    "approval_id" (team), "comment", "expires_ms"};
 *                    actor: the approver
 *   approval_refused {"step_id", "request_seq", "via", "uid"/"role",
 *                    "reason"}: an approval refused (the same identity
 *                    as the operator, another command) or declined by the
 *                    approver; actor: who tried
 *   run_end          {"outcome", "duration_ms"} via journal_run_end;
 *                    duration: the run's elapsed time from its start over
 *                    every resume; actor: the operator who aborted, else
 *                    qrh
 *
 * "stdout" and "stderr" are {"bytes", "sha256", "truncated", "lost"}: the
 * stream of that task as the journal stored it (state/journal.h), keyed by
 * the task. Journals written before tasks (no "task" members) keep those
 * flat in step_end and background_end as "stdout_bytes", "stdout_sha256",
 * "stdout_truncated" (and stderr_*), keyed by (step, attempt; background
 * attempt 0); readers accept both.
 *
 * Durations are milliseconds from the monotonic clock; "attempt" counts
 * from 1; task ids count from 1 within a run, across resumes. */
#ifndef QRH_STATE_EVENTS_H
#define QRH_STATE_EVENTS_H

#define EV_RUN_START "run_start"
#define EV_RUN_RESUME "run_resume"
#define EV_STEP_CONFIRM "step_confirm"
#define EV_STEP_START "step_start"
#define EV_ACTION_START "action_start"
#define EV_TASK_START "task_start"
#define EV_TASK_PROCESS "task_process"
#define EV_TASK_END "task_end"
#define EV_ACTION_END "action_end"
#define EV_STEP_END "step_end"
#define EV_STEP_RETRY "step_retry"
#define EV_STEP_CANCEL "step_cancel"
#define EV_STEP_SKIP "step_skip"
#define EV_STEP_DONE_BY_HAND "step_done_by_hand"
#define EV_STEP_INTERRUPTED "step_interrupted"
#define EV_CAPTURE "capture"
#define EV_BACKGROUND_START "background_start"
#define EV_BACKGROUND_END "background_end"
#define EV_TASK_REAPED "task_reaped"
#define EV_SURVIVOR_WAIT "survivor_wait"
#define EV_SURVIVOR_STOP "survivor_stop"
#define EV_SURVIVOR_END "survivor_end"
#define EV_DRY_RUN "dry_run"
#define EV_NOTE "note"
/* Drills (qrh drill): "drill" {"faults": [{"spec", "name", "applied",
 * "error"?}], "sandbox": DIR or null}, written after run_start (and again
 * by a resume that re-applies them); "hint" {"step_id"}: the operator was
 * shown the step's hint. An action_end whose first attempt a fail-once
 * fault failed has "fault": "fail-once". Front ends do not show the
 * faults until the run has ended. */
#define EV_DRILL "drill"
#define EV_HINT "hint"
#define EV_HANGUP "hangup"
#define EV_SIGNAL "signal"
#define EV_OBJECTIVES "objectives"
#define EV_PROBE_START "probe_start"
#define EV_PROBE_STATE "probe_state"
#define EV_PROBE_STOP "probe_stop"
#define EV_PROBE_DIGEST "probe_digest"
#define EV_NOTIFY_FAILED "notify_failed"
#define EV_RUN_END "run_end"
#define EV_APPROVAL_REQUEST "approval_request"
#define EV_APPROVAL "approval"
#define EV_APPROVAL_REFUSED "approval_refused"

/* Legacy: a background process's output in journals written before tasks
 * is stored under its step with this attempt. */
#define BACKGROUND_ATTEMPT 0

#endif
