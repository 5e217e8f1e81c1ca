/* fault: the faults a trainer injects into a drill, written NAME or
 * NAME=VALUE (the runbook's `faults:` list, or `qrh drill --fault`):
 *
 *   replica-lag=DURATION     the replica applies WAL that much late (a lag
 *                            spike: recovery_min_apply_delay)
 *   dr-slow=DURATION         the DR application answers 503 "starting" that
 *                            long after its database first takes writes
 *   velero-outcome=PHASE     Velero restores end PartiallyFailed or Failed
 *   fail-once=STEP_ID        that step's first attempt fails (qrh fails it,
 *                            without running it)
 *   primary-refuses          the primary database refuses the
 *                            application's connections
 *
 * All but fail-once are done by the sandbox (sandbox/sandbox.sh fault).
 * Pure functions. */
#ifndef QRH_RUNBOOKS_FAULT_H
#define QRH_RUNBOOKS_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runbooks/model.h"

#define FAULT_MSG_MAX 160

enum fault_kind {
	FAULT_REPLICA_LAG,
	FAULT_DR_SLOW,
	FAULT_VELERO_OUTCOME,
	FAULT_FAIL_ONCE,
	FAULT_PRIMARY_REFUSES,
};

struct fault {
	enum fault_kind kind;
	int64_t ms;                       /* replica-lag, dr-slow */
	char value[QRH_MAX_ID_LEN + 1];   /* velero-outcome's phase, fail-once's step */
};

/* 0 and *out, or -1 with msg (a complete lowercase phrase). */
int fault_parse(const char *spec, struct fault *out, char msg[FAULT_MSG_MAX]);
const char *fault_name(enum fault_kind k);
/* What the sandbox does about it (all but fail-once). */
int fault_in_sandbox(const struct fault *f);
/* A fail-once fault names a step of rb (ids assigned); true for others. */
bool fault_step_known(const struct runbook *rb, const struct fault *f);

#endif
