/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PCSHARE_REPORT_H
#define PCSHARE_REPORT_H

#include "pcshare.h"

/* Everything the end-of-run output needs. */
struct report {
	const struct stats *st;
	const struct dgroup *groups;	/* sorted by source path */
	size_t ngroups;
	char **paths;
	int npaths;
	uint64_t files_hashed, bytes_hashed;
	double elapsed;
	double phase_seconds[3];	/* walk, quick (incl. regrouping), full hash + dedupe */
	bool dry_run, json, verbose, quiet, module, interrupted;
	int exit_status;
};

void report_print(const struct report *r);

#endif
