#include <string.h>

#include "tui/cli.h"

const struct command qrh_commands[] = {
	{ "run", cmd_run,
	  "qrh run [--plain] [--yes] [--dry-run] [--drill] [--operator NAME] [-v NAME=VALUE]... [--typed ID=WORD]... [--journal DB] [--grace DURATION] [--quiet-output] [--head-file FILE] [--team CONNINFO] RUNBOOK",
	  "run a runbook step by step, journaling every event",
	  "Opens a run in the journal and runs the runbook's steps in order, each\n"
	  "only after it is confirmed. On a terminal it opens the console (keys:\n"
	  "qrh help keys; leaving it prints the run's number, outcome and journal\n"
	  "head, for the incident ticket). In plain mode (--plain, or no terminal)\n"
	  "every event is printed as one line with a timestamp, and step output as\n"
	  "\"[N] | line\" (stdout) or \"[N] ! line\" (stderr), with control\n"
	  "characters and escape sequences shown visibly.\n"
	  "\n"
	  "  --plain             line mode (also chosen when there is no terminal)\n"
	  "  -y, --yes           confirm ordinary steps; typed and dual-control\n"
	  "                      steps still need their own confirmation\n"
	  "  --typed ID=WORD     the word a confirm=typed:WORD step asks for\n"
	  "  --dry-run           print what each step would run; run nothing\n"
	  "  --drill             record the run as a drill, not a live incident\n"
	  "  --operator NAME     who is running it (default: the OS user)\n"
	  "  -v, --var NAME=VALUE  give a variable its value; VALUE may be\n"
	  "                      @FILE (a secret's file must be private: chmod 600),\n"
	  "                      @env:VAR, @fd:N (read to the end), or @@TEXT for a\n"
	  "                      literal @TEXT. A secret written on the command line\n"
	  "                      is shown by ps: qrh warns\n"
	  "  --journal DB        the journal (default $QRH_JOURNAL, then\n"
	  "                      $XDG_STATE_HOME/qrh/journal.db)\n"
	  "  --grace DURATION    between SIGTERM and SIGKILL on timeout (default 5s)\n"
	  "  --quiet-output      journal step output but do not print it\n"
	  "  --head-file FILE    on leaving, append the run's journal head\n"
	  "                      (RUN:SEQ:HASH TIME) to FILE, to anchor it elsewhere\n"
	  "  --team CONNINFO     ship the run to the team database as it goes\n"
	  "                      (qrh help team; also $QRH_TEAM)\n"
	  "\n"
	  "Without --yes, steps are confirmed on the terminal, or refused when\n"
	  "standard input is not one. SIGINT and SIGTERM cancel the running step;\n"
	  "SIGHUP lets it finish; either way the run stays open for qrh resume.\n"
	  "A run whose runbook declares a secret cannot dump core (it holds the\n"
	  "secret in memory).\n"
	  "\n"
	  "A dual_control step runs only after another identity approves it:\n"
	  "qrh asks, names who is awaited and the command that approves (qrh help\n"
	  "approve), and waits; the request expires after 15 minutes (approval_ttl).\n"
	  "\n"
	  "Exit status: 0 every step ok, 1 a step failed, 2 bad input or usage,\n"
	  "3 interrupted.\n" },
	{ "resume", cmd_resume,
	  "qrh resume [--plain] [--yes] [--rerun-interrupted | --skip-interrupted] [--runbook-changed-ok] [--operator NAME] [-v NAME=VALUE]... [--typed ID=WORD]... [--journal DB] [--head-file FILE] [--team CONNINFO] [RUN]",
	  "continue an unfinished run after a crash, kill or hangup",
	  "Continues run RUN, or the newest unfinished run. Steps the journal\n"
	  "records as finished never run again. A step that was running when qrh\n"
	  "stopped is interrupted, its outcome unknown: it runs again only with\n"
	  "--rerun-interrupted, is skipped with --skip-interrupted, and otherwise\n"
	  "qrh names it and exits 2. While a process of it still runs, it is not\n"
	  "run again: --rerun-interrupted waits for the process to end (in the\n"
	  "console, w waits and k stops it), and the journal records the choice\n"
	  "and how the process ended. If the runbook file changed since the run\n"
	  "started, qrh refuses unless --runbook-changed-ok is given (journaled).\n"
	  "Options as for qrh run.\n"
	  "\n"
	  "Exit status as for qrh run.\n" },
	{ "watch", cmd_watch, "qrh watch [--journal DB] [--team CONNINFO] [RUN]",
	  "follow a run from another terminal, read-only",
	  "Opens a read-only console on run RUN (default: the newest unfinished\n"
	  "run, else the newest) and follows it as another qrh runs it: steps,\n"
	  "their states and output as journaled, notes, clocks. Nothing can be\n"
	  "confirmed or changed from here. Needs a terminal; q leaves.\n"
	  "\n"
	  "  --team CONNINFO  follow the run from the team database, from any\n"
	  "                   machine (RUN: its UUID or a prefix of one)\n"
	  "\n"
	  "Exit status: 0, or 2 when the journal or the run cannot be read.\n" },
	{ "check", cmd_check, "qrh check [--strict] [-q] RUNBOOK...",
	  "validate runbooks; errors as FILE:LINE:COL",
	  "Loads each runbook (Markdown or JSON) and reports every problem, one per\n"
	  "line on stderr, as FILE:LINE:COL: error: MESSAGE. Lint findings are\n"
	  "reported as warnings and do not fail the check unless --strict is given.\n"
	  "\n"
	  "  --strict   treat warnings as errors\n"
	  "  -q         print nothing for files that are valid\n"
	  "\n"
	  "Exit status: 0 when every file is valid, 2 otherwise.\n" },
	{ "convert", cmd_convert, "qrh convert [--to json|md] RUNBOOK",
	  "write a runbook in the other format (Markdown <-> JSON)",
	  "Writes the runbook to standard output in the other format, or in the\n"
	  "format named by --to. JSON output is canonical: converting Markdown to\n"
	  "JSON, back to Markdown and to JSON again gives the same bytes.\n"
	  "\n"
	  "  --to json|md   the output format (default: the other one)\n"
	  "\n"
	  "Exit status: 0 on success, 2 when the runbook is not valid.\n" },
	{ "list", cmd_list, "qrh list [--journal DB] [--team CONNINFO]",
	  "list the runs in the journal, newest first",
	  "Prints one line per run, newest first: its id, when it started (UTC),\n"
	  "the mode (live, drill, dry-run), the outcome (ok, failed, aborted,\n"
	  "interrupted, or unfinished while it has none), the steps finished for\n"
	  "good out of all steps, and the title.\n"
	  "\n"
	  "  --journal DB   the journal (default $QRH_JOURNAL, then\n"
	  "                 $XDG_STATE_HOME/qrh/journal.db)\n"
	  "  --team CONNINFO  list the team database's runs instead\n"
	  "\n"
	  "Exit status: 0 on success, 1 when the journal cannot be read, 2 when it\n"
	  "cannot be opened or on a usage error.\n" },
	{ "show", cmd_show, "qrh show [--output] [--journal DB] [RUN]",
	  "show a run: its steps, who confirmed them, notes, output",
	  "Shows run RUN (an id, as qrh list prints it), or the newest run: the\n"
	  "header (runbook and its SHA-256, mode, operator, times, outcome, the\n"
	  "journal head RUN:SEQ:HASH), then each step with its state, duration,\n"
	  "exit code and who confirmed it and how (and a fan-out's members with\n"
	  "how each ended), then the notes. A step that was\n"
	  "running when qrh stopped and never ended is shown as interrupted.\n"
	  "\n"
	  "  --output       also print the stored output of each step (the first\n"
	  "                 and last 2 MiB of each stream); stdout lines start\n"
	  "                 with '|', stderr lines with '!'\n"
	  "  --journal DB   the journal (default as for qrh list)\n"
	  "\n"
	  "Text from the journal is shown with control characters and escape\n"
	  "sequences made visible.\n"
	  "\n"
	  "Exit status: 0 on success, 1 when the journal cannot be read, 2 when it\n"
	  "cannot be opened, RUN does not exist, or on a usage error.\n" },
	{ "verify", cmd_verify, "qrh verify [--head [RUN:]SEQ:HASH] [--journal DB] [--team CONNINFO] [RUN]",
	  "check the journal's hash chains; name the first broken event",
	  "Runs SQLite's integrity check and recomputes the hash chain of run RUN,\n"
	  "or of every run, from the stored bytes. When all is intact it prints\n"
	  "\"journal ok: N runs, M events, head RUN:SEQ:HASH\" (the head of RUN, or\n"
	  "of the newest run). Otherwise it prints the first problem as\n"
	  "\"run R event S: PROBLEM: DETAIL\".\n"
	  "\n"
	  "What it proves, from the file alone: no event of a run was changed,\n"
	  "removed, reordered or added after run_end; the run's record (runbook\n"
	  "text, title, operator, host, mode, start, variables) is the one its\n"
	  "first event was chained to; its outcome and end time are its run_end's;\n"
	  "its last event is the head the run records; and every finished output\n"
	  "stream an event names is stored as that event says (re-hashed when\n"
	  "whole; lengths only when truncated or partly lost, since the hash\n"
	  "covers bytes that are not kept).\n"
	  "\n"
	  "What it cannot prove from the file alone: someone with write access can\n"
	  "rewrite a run (or the whole journal) from some event on, recompute\n"
	  "every hash and the recorded head, or delete a run outright, and the\n"
	  "result verifies. A head recorded elsewhere (a ticket, a chat, a signed\n"
	  "bundle's MANIFEST, qrh run --head-file) shows it: --head checks that the\n"
	  "run still holds that event with that hash, so a run truncated or\n"
	  "rewritten since then fails. Nor does verify prove what happened outside\n"
	  "the journal: that commands did what their output says, or that the\n"
	  "clock was right.\n"
	  "\n"
	  "  --head [RUN:]SEQ:HASH  also prove the run (RUN, or the one given, or\n"
	  "                 the newest) extends this head; the hash in full, or at\n"
	  "                 least its first 12 hex digits\n"
	  "  --journal DB   the journal (default as for qrh list)\n"
	  "  --team CONNINFO  verify the central copy of RUN (a UUID, a prefix of\n"
	  "                 one, or a local run number) with the same hash chain,\n"
	  "                 and compare it event by event with the local journal's\n"
	  "                 copy when there is one\n"
	  "\n"
	  "Exit status: 0 when the journal is intact (and extends the head), 1 when\n"
	  "it is not (or cannot be read), 2 when it cannot be opened, RUN does not\n"
	  "exist, or on a usage error.\n" },
	{ "export", cmd_export,
	  "qrh export [-f json|md|junit|html] [-o DIR|FILE] [--sign KEYFILE] [--head-file FILE] [--head-notify URL-SPEC] [--journal DB] [RUN]",
	  "write a run's evidence: one document, or a signed bundle",
	  "Writes the evidence of run RUN, or of the newest run.\n"
	  "\n"
	  "With -o DIR (and no -f) it writes a bundle into DIR (new, or empty):\n"
	  "evidence.json (the JSON document below), evidence.md (to paste into an\n"
	  "incident document), junit.xml (one testcase per step, as CI systems\n"
	  "read it), report.html (one self-contained page with an SVG timeline of\n"
	  "steps, attempts and probes and the RTO budget line), the runbook text\n"
	  "exactly as run, each stored output stream under outputs/, and MANIFEST:\n"
	  "the SHA-256 of every file (sha256sum -c reads it) and the journal head.\n"
	  "A run still in progress is exported as far as it went, and every\n"
	  "document says so.\n"
	  "\n"
	  "With -f, one document goes to standard output (or -o FILE). The JSON\n"
	  "document holds the run, its variables (secret ones as ***), operators,\n"
	  "sessions and handovers, each step (status, times, every attempt's\n"
	  "timings, who confirmed or closed it, output bytes and SHA-256), notes,\n"
	  "the clock source and any wall-clock jump during the run, every event\n"
	  "with its hash chain, and the head. Times are RFC 3339 UTC with\n"
	  "milliseconds; durations come from the monotonic clock.\n"
	  "\n"
	  "  -f, --format FMT    json (the default), md, junit or html\n"
	  "  -o, --output PATH   a bundle directory, or with -f a file\n"
	  "  --sign KEYFILE      sign the bundle's MANIFEST with ssh-keygen -Y sign\n"
	  "                      -n qrh-evidence (MANIFEST.sig); check it with\n"
	  "                      qrh verify-bundle\n"
	  "  --head-file FILE    append the head (RUN:SEQ:HASH TIME) to FILE\n"
	  "  --head-notify SPEC  post the head to a Slack-compatible webhook; SPEC\n"
	  "                      as -v takes a secret: @env:VAR, @FILE, @fd:N\n"
	  "  --journal DB        the journal (default as for qrh list)\n"
	  "\n"
	  "On a terminal the JSON document is shown sanitized; to a pipe or a file\n"
	  "it is written as is. Text from the journal is sanitized in the other\n"
	  "documents.\n"
	  "\n"
	  "Exit status: 0 on success, 1 when the journal cannot be read or a\n"
	  "document cannot be written (or signed, or the head anchored), 2 when the\n"
	  "journal cannot be opened, RUN does not exist, or on a usage error.\n" },
	{ "verify-bundle", cmd_verify_bundle,
	  "qrh verify-bundle [--allowed-signers FILE] DIR",
	  "check an evidence bundle against its manifest and signature",
	  "Checks the bundle in DIR: every file the MANIFEST lists is there with\n"
	  "its SHA-256, no other file is, evidence.json holds the manifest's head,\n"
	  "and the runbook is the one the run recorded. With --allowed-signers\n"
	  "(ssh-keygen's ALLOWED SIGNERS format) MANIFEST.sig must be a signature\n"
	  "in the qrh-evidence namespace, by a key the file allows, over this\n"
	  "MANIFEST. Each failure is printed as \"FAILED FILE: why\".\n"
	  "\n"
	  "  --allowed-signers FILE   check the signature (without it, the\n"
	  "                           signature is not checked, and it says so)\n"
	  "\n"
	  "Exit status: 0 when everything holds, 1 when a file fails, 2 when DIR\n"
	  "is not a directory or on a usage error.\n" },
	{ "drill", cmd_drill,
	  "qrh drill [--plain] [--yes] [--fault NAME[=VALUE]]... [--operator NAME] [-v NAME=VALUE]... [--typed ID=WORD]... [--journal DB] RUNBOOK | qrh drill --history [--journal DB] RUNBOOK",
	  "run a runbook as a training drill against the sandbox, scored",
	  "The same as qrh run --drill: the run is journaled as a drill, the\n"
	  "runbook's variables take the sandbox's values (qrh sandbox env; -v\n"
	  "still wins), and at the end a score card shows each step's time\n"
	  "against its par=, the skips, retries and hints, the objectives met,\n"
	  "and the faults the trainer injected. A step with expect=fail is meant\n"
	  "to fail: the drill is ok when it does.\n"
	  "\n"
	  "  --fault NAME[=VALUE]  inject a fault (also the runbook's faults:):\n"
	  "                      replica-lag=DURATION, dr-slow=DURATION,\n"
	  "                      velero-outcome=PartiallyFailed|Failed,\n"
	  "                      fail-once=STEP_ID, primary-refuses; journaled,\n"
	  "                      shown to the trainee only when the drill ends\n"
	  "  --history           the drills of RUNBOOK in the journal: a table of\n"
	  "                      runs and, per step, a sparkline of its times\n"
	  "Other options as for qrh run. The sandbox is $QRH_SANDBOX_DIR\n"
	  "(default /tmp/qrh-sandbox).\n"
	  "\n"
	  "Exit status as for qrh run.\n" },
	{ "sandbox", cmd_sandbox, "qrh sandbox [--dir DIR] up|down [--wipe]|reset|status|env",
	  "start, stop or inspect the local DR sandbox for drills",
	  "The DR sandbox on loopback (sandbox/sandbox.sh): a PostgreSQL primary\n"
	  "and streaming replica (database app) with a marker writer logging\n"
	  "every acknowledged write, a primary and a DR application server whose\n"
	  "/healthz names its region and checks its own database, a front door\n"
	  "with Route 53 failover routing, and the Velero simulator. As root the\n"
	  "servers run as the user qrh-sandbox.\n"
	  "\n"
	  "  up        start what is not running (creating the sandbox first)\n"
	  "  down      stop everything: no process, no port left (--wipe: and\n"
	  "            remove the state directory)\n"
	  "  reset     down --wipe, then up\n"
	  "  status    one line per part\n"
	  "  env       the variables qrh drill gives the runbooks\n"
	  "  --dir DIR the state directory (default $QRH_SANDBOX_DIR, then\n"
	  "            /tmp/qrh-sandbox); settings in DIR/sandbox.conf\n"
	  "\n"
	  "Exit status: 0 done (status: everything up), 1 a part failed or is\n"
	  "down, 2 usage, 3 (status) not running.\n" },
	{ "team", cmd_team, "qrh team init|check|sync [--journal DB] [CONNINFO]",
	  "set up the team database, check its grants, ship what waits",
	  "Team mode keeps a copy of every run in a PostgreSQL database that the\n"
	  "team shares (qrh run --team CONNINFO). CONNINFO is a libpq connection\n"
	  "string or URI; without one, $QRH_TEAM, then the first line of\n"
	  "$XDG_CONFIG_HOME/qrh/team.conf that is not a comment.\n"
	  "\n"
	  "  init    create the schema qrh and the group roles qrh_writer (SELECT and\n"
	  "          INSERT: operators, approvers) and qrh_reader (SELECT, and INSERT\n"
	  "          on notes: watchers), or apply the migrations a newer qrh brings.\n"
	  "          Idempotent; prints every statement before it runs. Run it as the\n"
	  "          role that is to own the schema (not an operator's role).\n"
	  "  init --check, check\n"
	  "          check the schema version and that writers and readers may\n"
	  "          never UPDATE, DELETE or TRUNCATE, nor may any login member of\n"
	  "          the groups (owners and superusers are reported)\n"
	  "  sync    ship what linked runs left in the local journal (the database\n"
	  "          was unreachable when they ran) and wait until it is central\n"
	  "\n"
	  "  --journal DB   the journal sync reads (default as for qrh run)\n"
	  "\n"
	  "Exit status: 0 done (check: append-only), 1 the database refused or the\n"
	  "check found a problem, 2 on a usage error.\n" },
	{ "approve", cmd_approve,
	  "qrh approve [--team CONNINFO] [--refuse] [--comment TEXT] [--yes] RUN STEP",
	  "approve a dual-control step as a second identity",
	  "A step with dual_control=true runs only after another identity than its\n"
	  "operator approves it. The console asks and shows the command to give.\n"
	  "qrh approve shows what exactly will run, asks (unless --yes), and sends\n"
	  "the answer; the running qrh journals it as an approval or a refusal.\n"
	  "\n"
	  "RUN is the run's UUID (a prefix will do with --team); STEP its id or\n"
	  "number.\n"
	  "\n"
	  "  (no --team)      on the operator's machine: through the console's socket\n"
	  "                   under $QRH_APPROVE_DIR (default /tmp); you are your OS\n"
	  "                   user, as the kernel says (SO_PEERCRED), never typed\n"
	  "  --team CONNINFO  through the team database; you are your PostgreSQL\n"
	  "                   role (session_user, authenticated by the server)\n"
	  "  --refuse         decline instead (journaled as a refusal)\n"
	  "  --comment TEXT   journaled with the answer\n"
	  "  --yes            do not ask on the terminal\n"
	  "\n"
	  "The operator's own identity, an expired request or another command than\n"
	  "the one requested are refused. An approval holds for one attempt and\n"
	  "expires with the request (15 minutes, or the runbook's approval_ttl).\n"
	  "\n"
	  "Exit status: 0 approved, 1 refused or unreachable, 2 on a usage error.\n" },
	{ "note", cmd_note, "qrh note --team CONNINFO [--no-wait] RUN TEXT...",
	  "add a note to a run someone else is running",
	  "Sends TEXT (the words, joined) as a note on RUN through the team\n"
	  "database; the qrh running the run journals it, with your PostgreSQL role\n"
	  "as its author, when the runbook says notes: anyone. In the console, and\n"
	  "in qrh watch --team, the a key adds a note.\n"
	  "\n"
	  "RUN is the run's UUID or a prefix of it.\n"
	  "\n"
	  "  --team CONNINFO  the team database (or $QRH_TEAM, or team.conf)\n"
	  "  --no-wait        do not wait for the running qrh to journal it\n"
	  "\n"
	  "A run that has ended, an empty note or one over 4000 bytes is refused.\n"
	  "\n"
	  "Exit status: 0 journaled (sent, with --no-wait), 1 refused, unreachable\n"
	  "or not journaled within 10 s, 2 on a usage error.\n" },
	{ "help", cmd_help, "qrh help [COMMAND]", "show help for qrh or a command",
	  "Shows the list of commands, or the help of one command.\n" },
	{ "version", cmd_version, "qrh version", "print the version",
	  "Prints the version of qrh (same as qrh --version).\n" },
	{ 0 },
};

const struct command *command_find(const char *name)
{
	for (const struct command *c = qrh_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
