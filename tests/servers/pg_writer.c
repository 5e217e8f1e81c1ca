/* pg_writer: the marker writer of tests/servers/pg.sh.
 *
 *   pg_writer CONNINFO ACK_FILE [INTERVAL_MS]
 *
 * Inserts one row (id, clock_timestamp()) into rpo_marker every
 * INTERVAL_MS (default 20) and, once the server has acknowledged the
 * commit, appends "id<TAB>at" to ACK_FILE and flushes it: the file holds
 * exactly the writes a client was told were committed. A failed insert or
 * a lost connection is retried on a new connection; SIGTERM ends it
 * between two inserts. */
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: pg_writer CONNINFO ACK_FILE [INTERVAL_MS]\n");
		return 2;
	}
	long interval = argc > 3 ? strtol(argv[3], NULL, 10) : 20;
	FILE *ack = fopen(argv[2], "a");
	if (!ack) {
		perror(argv[2]);
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	PGconn *c = NULL;
	while (!stop) {
		if (!c || PQstatus(c) != CONNECTION_OK) {
			PQfinish(c);
			c = PQconnectdb(argv[1]);
			if (PQstatus(c) != CONNECTION_OK) {
				pause_ms(100);
				continue;
			}
			PQsetNoticeProcessor(c, quiet, NULL);
		}
		PGresult *r = PQexec(c, "insert into rpo_marker (at) values (clock_timestamp()) returning id, at");
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
			fprintf(ack, "%s\t%s\n", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
			fflush(ack);
		}
		PQclear(r);
		pause_ms(interval);
	}
	PQfinish(c);
	fclose(ack);
	return 0;
}
