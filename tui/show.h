/* show: the parts of qrh show printed outside cmd_show.c. */
#ifndef QRH_TUI_SHOW_H
#define QRH_TUI_SHOW_H

#include "state/report.h"

/* The objectives and the probes of a run, after its steps. */
void show_probes_print(const struct run_report *r);

#endif
