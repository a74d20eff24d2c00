/* status.h - one report of every server over every LB, built from a fleet
 * view by a pure function: per LB the admin state, operational state,
 * check, weight and sessions; in total the sessions, and whether the LBs
 * disagree. output.c renders it as a table or JSON. */
#ifndef CUT_STATUS_H
#define CUT_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet.h"
#include "stat.h"

struct status_cell {
	bool present;		/* the LB answered and has this server */
	enum srv_admin admin;
	enum srv_op op;
	char status[32];	/* HAProxy's CSV status */
	char check[24];		/* check_status, "" without checks */
	int64_t weight;		/* effective weight */
	int64_t uweight, iweight;
	int64_t scur, qcur;
};

struct status_server {
	char backend[STAT_NAME_MAX];
	char server[STAT_NAME_MAX];
	struct status_cell *lb;	/* nlb cells, fleet order */
	int64_t sessions;	/* scur + qcur over the LBs that answered */
	bool consistent;	/* same admin/op on every LB that has it */
	bool missing;		/* absent on an LB that answered */
	bool unknown;		/* some LB did not answer */
};

struct status_report {
	const struct fleet_view *view;	/* borrowed: LB names, errors */
	size_t nlb;
	size_t n;
	struct status_server *s;
};

/* filter: NULL (everything), "BACKEND", "BACKEND/SERVER" or a bare
 * "SERVER" when no backend of that name exists. The view needs
 * FLEET_READ_STATE and FLEET_READ_STAT. Returns 0 or UV_ENOMEM. */
int status_build(const struct fleet_view *v, const char *filter,
		 struct status_report *out);
void status_report_free(struct status_report *r);

/* Admin/op summary over LBs: the common value, or -1 when they differ or
 * nobody answered. */
int status_admin(const struct status_server *s, size_t nlb);
int status_op(const struct status_server *s, size_t nlb);

#endif
