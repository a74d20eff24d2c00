/* fleet_int.h - the fleet's insides, shared by fleet.c (lifecycle, reads)
 * and fleet_reload.c (what to send again after an HAProxy reload). */
#ifndef CUT_FLEET_INT_H
#define CUT_FLEET_INT_H

#include "fleet.h"

/* A state or weight this process set on one server on one LB. */
struct fleet_want {
	size_t lb;
	char backend[STAT_NAME_MAX];
	char server[STAT_NAME_MAX];
	int admin;		/* enum srv_admin, -1: never set */
	int weight;		/* -1: never set */
	bool percent;
};

struct fleet_lb_ref {
	struct fleet *f;
	size_t lb;
};

struct fleet {
	uv_loop_t *loop;
	size_t n;
	struct rtapi **api;
	uint64_t retry_ms;
	struct fleet_lb_ref *refs;	/* per LB, for rtapi callbacks */
	struct fleet_want *want;
	size_t nwant, capwant;
	struct rtapi_addr *master;	/* per LB; kind is valid only if
					 * has_master */
	bool *has_master;
	bool *warned_old;		/* per LB: the warning about old
					 * workers that cannot be counted */
	uint64_t timeout_ms;		/* per request, also on the master */
	size_t reply_max;
};

void fleet_reload_init(struct fleet *f, size_t lb);

#endif
