/* model: the runbook, as every loader produces it and every consumer reads it.
 *
 * A runbook is plain data: no curses, no I/O. Every node remembers where it
 * came from (`struct srcpos`) so that any later check can point at the line.
 * All strings are owned by the runbook and freed by runbook_free(); a NULL
 * string means "not given". Durations are in milliseconds, -1 when not given.
 * Limits on what a loader accepts are the QRH_MAX_* constants below. */
#ifndef QRH_RUNBOOKS_MODEL_H
#define QRH_RUNBOOKS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QRH_MAX_FILE_BYTES (4u << 20)
#define QRH_MAX_LINE_BYTES 65536u
#define QRH_MAX_STEPS 2000u
#define QRH_MAX_ACTIONS_PER_STEP 32u
#define QRH_MAX_VARS 256u
#define QRH_MAX_TARGETS 128u
#define QRH_MAX_PARALLEL 1024
/* hosts read from a members_file */
#define QRH_MAX_GROUP_HOSTS 10000u
#define QRH_MAX_PROBES 256u
#define QRH_MAX_RETRIES 100
#define QRH_MAX_ID_LEN 64u
/* the largest max_bytes of an http action (a response is held in memory) */
#define QRH_MAX_HTTP_BYTES (64u << 20)

struct srcpos {
	unsigned line; /* 1-based; 0 = unknown */
	unsigned col;  /* 1-based byte column */
};

enum action_kind {
	ACTION_SH,
	ACTION_EXEC,
	ACTION_SSH,
	ACTION_HTTP,
	ACTION_SQL,
	ACTION_VELERO,
	ACTION_WAIT,
	ACTION_KIND_COUNT
};

enum confirm_mode {
	CONFIRM_YES,   /* Enter / y (the default) */
	CONFIRM_NO,    /* runs without asking: read-only checks */
	CONFIRM_TYPED, /* the operator types confirm_word */
};

enum on_fail {
	ON_FAIL_STOP, /* the default: the run stops, the operator decides */
	ON_FAIL_CONTINUE,
	ON_FAIL_ASK,
};

/* A string list (argv, headers, choices). */
struct strv {
	char **v;
	size_t n;
};

struct action {
	enum action_kind kind;
	struct srcpos pos;      /* the fence or the JSON object */
	struct srcpos body_pos; /* first line of the body */
	char *lang;             /* Markdown info word as written (sh/bash/…) */
	char *name;
	char *body;     /* script, query, request body, velero arguments */
	struct strv argv; /* exec */
	char *shell;    /* sh: interpreter, default /bin/sh */
	char *cwd;
	char *target;   /* ssh, sql, http, velero, sh, exec: a key of
			 * runbook.targets; a group fans the action out */
	int parallel;   /* fan-out: members at once; 0 = the default (10) */
	char *require;  /* fan-out: all (default) | any | N members ok */
	int64_t timeout_ms;
	bool background;
	/* http */
	char *method;
	char *url;
	struct strv headers;
	char *expect;   /* status spec "200", "2xx", "200,204" */
	char *contains; /* body must contain */
	char *until;    /* condition to wait for: a status spec */
	int64_t every_ms;
	int64_t within_ms;
	char *matches;      /* POSIX ERE the body must match */
	struct strv json;   /* JSON field checks, e.g. ".region=dr" */
	struct strv resolve; /* HOST:PORT:ADDR, as CURLOPT_RESOLVE */
	char *cacert;       /* PEM CA file to verify the server with */
	bool insecure;      /* do not verify TLS (journaled) */
	bool follow;        /* follow redirects */
	int64_t max_bytes;  /* response body cap; -1 = default */
	int64_t connect_timeout_ms;
	int64_t request_timeout_ms;
	bool reuse;         /* may take a connection an earlier request left
			     * open (http probes but reuse: false; never a
			     * step: actions/http_request.h) */
	/* sql (also expect: assertions on the first row, and within: how
	 * long recipe=promote waits) */
	char *expect_rows;  /* e.g. "1", ">0", ">=3" */
	struct strv params; /* the author's $1, $2, ...: each one value */
	char *recipe;       /* lag | promote | rpo: a built-in measurement */
	char *capture_col;  /* the first row's column the step's capture takes */
	char *marker_table; /* rpo: the writer's marker table (rpo_marker) */
	char *ack_file;     /* rpo: the writer's log of acknowledged ids */
	/* velero (every_ms above: the poll interval while following) */
	char *accept; /* end phases that succeed, "Completed,PartiallyFailed" */
	char *pick;   /* backup get -o json: the variable a backup is picked into */
	/* wait */
	int64_t for_ms;
	char *probe;
	/* stop a background action started earlier, by name */
	char *stop;
};

struct step {
	struct srcpos pos;
	char *id;
	bool id_explicit; /* given by the author, not derived from the title */
	char *title;
	char *doc;        /* Markdown prose: the operator's instructions */
	enum confirm_mode confirm;
	char *confirm_word;
	bool dual_control;
	int64_t timeout_ms;
	enum on_fail on_fail;
	int retries;
	int64_t backoff_ms;
	char *capture; /* variable set from the step's output */
	bool rto_start;
	bool rto_stop;
	/* drills (qrh drill): the par time, a step meant to fail, a hint */
	int64_t par_ms; /* -1: none */
	bool expect_fail;
	char *hint;
	struct action *actions;
	size_t n_actions;
};

struct var {
	struct srcpos pos;
	char *name;
	char *value; /* default; NULL when it must be given or prompted */
	bool secret;
	char *prompt;
	char *description;
	struct strv choices;
};

/* A target is a named endpoint: its kind says which fields apply.
 * Every string may hold ${NAME} references, resolved when a step uses the
 * target (state/targets.c). A group names other targets (`members`), or
 * hosts listed in a file (`members_file`: one `host` or `host:port` a
 * line, `#` comments), which become ssh targets taking the group's own
 * ssh fields (user, port, identity, known_hosts, agent, trust_new). */
struct target {
	struct srcpos pos;
	char *name;
	char *kind; /* ssh | postgres | http | kubernetes | group */
	char *host;
	int port;   /* 0 = default */
	char *user;
	char *identity;    /* ssh private key path */
	char *known_hosts; /* ssh known_hosts path */
	bool agent;        /* ssh: authenticate with ssh-agent */
	bool trust_new;    /* ssh: accept an unknown host key (journaled) */
	char *dsn;         /* postgres connection string, no password */
	char *password_var; /* postgres: the secret variable with the password */
	char *url;         /* http base URL */
	bool insecure;     /* http: do not verify TLS (journaled) */
	char *binary;      /* kubernetes: the velero CLI */
	char *kubeconfig;  /* kubernetes */
	char *context;     /* kubernetes context */
	char *namespace_;  /* kubernetes: Velero's namespace */
	struct strv members; /* group: target names */
	char *members_file;  /* group: a host list */
};

/* A check sampled all run long (state/run_probe.c). Its state is decided
 * by conditions on the sample's values (runbooks/condition.h); the action
 * is what one sample does (its timeout is the sample's). */
struct probe {
	struct srcpos pos;
	char *name;
	int64_t every_ms; /* -1: the default, PROBE_DEFAULT_EVERY_MS */
	char *ok, *warn, *fail; /* conditions; NULL: not given */
	char *value;      /* the path of the value shown; NULL: the kind's */
	char *from_step;  /* polled from this step's start; NULL: the run's */
	char *until_step; /* to this step's end; NULL: the run's end */
	bool no_reuse;    /* http, reuse: false: a new connection a sample */
	struct action action; /* what one sample does */
};

#define PROBE_DEFAULT_EVERY_MS 5000
#define PROBE_MIN_EVERY_MS 10

/* The run's objectives: budgets and where they are measured
 * (runbooks/probe_spec.h says how the marks are written). */
struct objectives {
	struct srcpos pos;
	int64_t rto_ms;
	int64_t rpo_ms;
	char *rto_start; /* a moment; NULL: a step's rto_start, if any */
	char *rto_stop;  /* a moment; NULL: a step's rto_stop, if any */
	char *rpo_from;  /* a source: step:ID or probe:NAME */
};

/* notify: a Slack-compatible incoming webhook told of the run as it goes
 * (state/notify.h). The URL is a credential: it must come from a secret
 * variable or the environment, written as exactly one ${NAME} or
 * ${env:NAME}. */
struct notify {
	struct srcpos pos;
	char *url;          /* NULL: no notifications */
	int64_t timeout_ms; /* one attempt; -1: the default */
	int retries;        /* -1: the default */
	int64_t backoff_ms; /* before the first retry, doubling; -1: default */
};

struct runbook {
	char *path;
	char *source; /* the exact bytes that were loaded */
	size_t source_len;
	char *title;
	char *description;
	struct var *vars;
	size_t n_vars;
	struct target *targets;
	size_t n_targets;
	struct probe *probes;
	size_t n_probes;
	struct objectives objectives;
	struct notify notify;
	struct step *steps;
	size_t n_steps;
	struct strv faults; /* drill faults (runbooks/fault.h) */
	bool notes_anyone; /* notes: anyone: watchers may add notes (team mode) */
	int64_t approval_ttl_ms; /* approval_ttl: how long a dual-control
				  * request stands; -1: the default (15 min) */
};

#define RUNBOOK_APPROVAL_TTL_MIN_MS 1000
#define RUNBOOK_APPROVAL_TTL_MAX_MS (24LL * 3600 * 1000)

const char *action_kind_name(enum action_kind k);
/* Accepts the kind names and the Markdown aliases (bash, shell → sh). */
int action_kind_parse(const char *s, enum action_kind *out);
/* True for kinds that run a process and so can be background=true. */
bool action_kind_is_process(enum action_kind k);

void action_init(struct action *a, enum action_kind kind);
void step_init(struct step *s);
void runbook_init(struct runbook *rb);
void action_release(struct action *a);
void runbook_free(struct runbook *rb);

void strv_push(struct strv *sv, const char *s);
void strv_release(struct strv *sv);

/* Lookups by name; NULL when absent. */
const struct var *runbook_var(const struct runbook *rb, const char *name);
const struct target *runbook_target(const struct runbook *rb,
				    const char *name);
const struct probe *runbook_probe(const struct runbook *rb, const char *name);

#endif
