/* err: an error as a value.
 *
 * Library code below tui/ never prints. A function that can fail takes a
 * `struct err *` and, on failure, fills it with one complete lowercase
 * message (no trailing full stop, subjects quoted) and returns -1 (or NULL).
 * Only the front end decides where the message is shown. */
#ifndef QRH_ERR_H
#define QRH_ERR_H

#define ERR_MSG_MAX 512

struct err {
	char msg[ERR_MSG_MAX];
};

/* Set the message; always returns -1 so callers can `return err_set(...)`.
 * `e` may be NULL, in which case the message is dropped. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Like err_set, appending ": strerror(errno)" for the current errno. */
int err_errno(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix an existing message with context: "ctx: old". */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
