/* plan_int.h - what plan.c (the plan schema) and plan_switch.c (its
 * switch: section, blue/green) share. Not for other modules: use plan.h.
 */
#ifndef CUT_PLAN_INT_H
#define CUT_PLAN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"
#include "plan_yaml.h"

#define PLAN_NAME_WHAT "a name made of A-Z a-z 0-9 _ . : - (1 to 127 " \
		       "characters)"

/* HAProxy's charset for proxy and server names, [A-Za-z0-9_.:-]{1,127};
 * with `glob`, also the fnmatch(3) characters. */
bool plan_name_ok(const char *s, bool glob);

/* The first name (in file order) that repeats an earlier one: *dup, and
 * *orig the earlier one; *dup = n when all differ. Returns 0 or
 * UV_ENOMEM. `names` is borrowed. */
int plan_find_duplicate(char **names, size_t n, size_t *dup, size_t *orig);

/* Read the switch: section `n` (the value of `key`, the switch: key of
 * the top-level mapping) into sw, which set_defaults() left zeroed.
 * Returns 0 or an error code with y->err filled. */
int plan_switch_parse(const struct plan_yctx *y, struct plan_switch *sw,
		      const struct plan_ynode *key,
		      const struct plan_ynode *n);

/* What a switch: section changes in the rest of the plan, checked on the
 * top-level mapping `root` before the other sections are read: the keys
 * of a rolling upgrade (servers, rolling, strategy and their hook stages)
 * are refused with a switch, the blue/green hook stages without one;
 * backend is refused in map mode (p->backend gets a copy of the green
 * backend) and required in servers mode. Returns 0 or an error code. */
int plan_switch_check(const struct plan_yctx *y, struct plan *p,
		      const struct plan_ynode *root);

/* Free what sw owns and zero it; the struct itself is not freed. */
void plan_switch_free(struct plan_switch *sw);

#endif
