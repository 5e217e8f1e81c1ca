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
 * $QRH_TEAM_DRAIN seconds (default 10) while it is reachable, then says
 * where things stand (on stderr when `quiet` is false). */
void team_drain(struct loop *l, struct team_link *t, bool quiet);

#endif
