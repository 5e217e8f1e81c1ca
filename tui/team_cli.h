/* team_cli: what the commands share about team mode — where the team
 * database is (--team, else $QRH_TEAM, else the first line of
 * $XDG_CONFIG_HOME/qrh/team.conf that is not a comment), the link's state
 * printed in plain mode, and the wait for the last events to ship. */
#ifndef QRH_TUI_TEAM_CLI_H
#define QRH_TUI_TEAM_CLI_H

#include <stdbool.h>

#include "state/team_link.h"
#include "util/loop.h"

/* The conninfo to use, or NULL for none; caller frees. */
char *team_conninfo(const char *cli);
/* Plain mode: prints "TIME team: ..." whenever the link's state changes. */
void team_status_start(struct loop *l, struct team_link *t);
void team_status_stop(void);
/* At the end of a run: lets the link ship what is left for up to
 * $QRH_TEAM_DRAIN seconds (default 10), or 6 s while it is unreachable
 * (one more reconnect: the database may be coming back), then says
 * where things stand (on stderr when `quiet` is false). */
void team_drain(struct loop *l, struct team_link *t, bool quiet);

#endif

#include "state/journal.h"
#include "util/uuid.h"

/* A run of the team database copied into a private mirror journal (in a
 * new directory under $TMPDIR, removed by team_mirror_close): for verify
 * and show. RUN: a UUID or a prefix of one, a local run number of the
 * local journal `local` (may be NULL), or NULL for the newest. Waits up
 * to 60 s. NULL with e set. */
struct team_mirror {
	struct journal *j;
	char *dir;
	int64_t run_id;
	char uuid[UUID_TEXT_LEN + 1];
};
int team_mirror_open(const char *conninfo, const char *run, struct journal *local,
		     struct team_mirror *m, struct err *e);
/* The same on loop l, and the puller goes on keeping the copy current
 * (the caller frees it with team_pull_free before team_mirror_close). */
struct team_pull;
int team_mirror_follow(const char *conninfo, const char *run, struct loop *l,
		       struct team_mirror *m, struct team_pull **pull, struct err *e);
void team_mirror_close(struct team_mirror *m);
/* The RUN of a team command as the central copy knows it: a local run
 * number is mapped to its UUID through `local`; anything else is kept. */
char *team_run_ref(const char *run, struct journal *local);
