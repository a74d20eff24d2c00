/* fleet_map.h - one map entry on every load balancer: read it everywhere,
 * or set it everywhere at once and, if any LB refuses or fails, set the
 * ones that had changed back to what they held. Used by blue/green
 * switches through `use_backend %[str(active),map(FILE,default)]`. */
#ifndef CUT_FLEET_MAP_H
#define CUT_FLEET_MAP_H

#include <stdbool.h>

#include "fleet.h"
#include "stat.h"

struct fleet_map_value {
	int status;		/* 0, or why this LB is unknown */
	bool found;		/* the map has the key */
	char value[MAP_KEY_MAX];
	char msg[200];		/* error text when status != 0 */
};

/* values: one per LB, fleet order; borrowed for the call. */
typedef void fleet_map_fn(const struct fleet_map_value *values, void *arg);

int fleet_map_get(struct fleet *f, const char *file, const char *key,
		  fleet_map_fn *cb, void *arg);

/* Set KEY to VALUE on every LB in parallel; on a partial failure put
 * `prev[j]` back where it was applied and report CUT_EPARTIAL (CUT_EUNDO
 * if that failed too). prev is borrowed until the callback. */
int fleet_map_set(struct fleet *f, const char *file, const char *key,
		  const char *value, const char *const *prev,
		  fleet_done_fn *cb, void *arg);

#endif
