/* notify: messages to a Slack-compatible incoming webhook, sent from the
 * event loop.
 *
 * Each message is POSTed as {"text": "..."} (application/json), what
 * Slack, Mattermost, Rocket.Chat and most chat webhooks take. Messages go
 * out one at a time, in the order they were queued, each retried with a
 * doubling backoff on a network error, a timeout, 429 or a 5xx (a 4xx is
 * final: the webhook refused the message). Sending never blocks the loop
 * (util/curl_loop.h) and nothing else waits for it: a webhook that hangs
 * or refuses only delays later notifications. A message that finally
 * fails is reported to the owner (`failed`), with libcurl's generic words
 * or the HTTP status, never the URL, which is a credential: it appears in
 * no message, error or journal entry. At most NOTIFY_QUEUE_MAX messages
 * wait; beyond that the oldest waiting one is dropped and reported. */
#ifndef QRH_STATE_NOTIFY_H
#define QRH_STATE_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/loop.h"

#define NOTIFY_TIMEOUT_MS 10000 /* one attempt, connection included */
#define NOTIFY_RETRIES 3
#define NOTIFY_BACKOFF_MS 1000
#define NOTIFY_QUEUE_MAX 256
#define NOTIFY_TEXT_MAX 3000

struct notify_opts {
	int64_t timeout_ms; /* <= 0: NOTIFY_TIMEOUT_MS */
	int retries;        /* < 0: NOTIFY_RETRIES */
	int64_t backoff_ms; /* <= 0: NOTIFY_BACKOFF_MS */
};

/* A message was not delivered: what and step_id as given to
 * notifier_send, attempts made, why (lowercase words). */
typedef void notify_failed_fn(void *arg, const char *what, const char *step_id,
			      int attempts, const char *why);

struct notifier;

/* url is copied; it must be http:// or https://. */
struct notifier *notifier_new(struct loop *l, const char *url,
			      const struct notify_opts *o,
			      notify_failed_fn *failed, void *arg,
			      struct err *e);
/* Stops at once: what is still queued is dropped without a report. */
void notifier_free(struct notifier *n);
/* Queues text (cut at NOTIFY_TEXT_MAX bytes on a character boundary).
 * what: a word for reports ("step_end"); step_id may be NULL. */
void notifier_send(struct notifier *n, const char *what, const char *step_id,
		   const char *text);
/* Messages queued or in flight. */
size_t notifier_pending(const struct notifier *n);

#endif
