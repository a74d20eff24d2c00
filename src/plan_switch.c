/* plan_switch.c - the switch: section of a plan (blue/green, see the
 * comment above struct plan_switch in plan.h) and what it changes in the
 * rest of the plan: a blue/green plan has no servers, rolling or strategy
 * and other hook stages than a rolling one, and in map mode no backend.
 * Messages follow plan.c: "FILE:LINE:COLUMN: what is wrong", pointing at
 * the offending key when the key itself is the mistake.
 */
#include "plan.h"
#include "plan_int.h"
#include "plan_yaml.h"
#include "strutil.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static const char *const switch_mode_names[PLAN_SWITCH_MODE_COUNT] = {
	[PLAN_SWITCH_MAP] = "map",
	[PLAN_SWITCH_SERVERS] = "servers",
};

const char *plan_switch_mode_name(enum plan_switch_mode m)
{
	return (unsigned)m < PLAN_SWITCH_MODE_COUNT ? switch_mode_names[m]
						    : "?";
}

enum switch_key {
	SW_K_MODE = 0, SW_K_MAP, SW_K_KEY, SW_K_BLUE, SW_K_GREEN,
	SW_K_WRITE_FILE, SW_K_MIN_GREEN, SW_K_STEPS,
	SW_K_COUNT	/* keep last */
};
static const char *const switch_keys[SW_K_COUNT] = {
	[SW_K_MODE] = "mode", [SW_K_MAP] = "map", [SW_K_KEY] = "key",
	[SW_K_BLUE] = "blue", [SW_K_GREEN] = "green",
	[SW_K_WRITE_FILE] = "write_file", [SW_K_MIN_GREEN] = "min_green",
	[SW_K_STEPS] = "steps",
};

/* The mode a key belongs to; PLAN_SWITCH_MODE_COUNT for both. */
static const enum plan_switch_mode switch_key_mode[SW_K_COUNT] = {
	[SW_K_MODE] = PLAN_SWITCH_MODE_COUNT,
	[SW_K_MAP] = PLAN_SWITCH_MAP,
	[SW_K_KEY] = PLAN_SWITCH_MAP,
	[SW_K_BLUE] = PLAN_SWITCH_MODE_COUNT,
	[SW_K_GREEN] = PLAN_SWITCH_MODE_COUNT,
	[SW_K_WRITE_FILE] = PLAN_SWITCH_MAP,
	[SW_K_MIN_GREEN] = PLAN_SWITCH_SERVERS,
	[SW_K_STEPS] = PLAN_SWITCH_SERVERS,
};

/* Why a key of the other mode is refused, by the mode in use. */
static const char *const other_mode_why[PLAN_SWITCH_MODE_COUNT] = {
	[PLAN_SWITCH_MAP] = "applies to mode servers only: a map switches "
			    "all traffic at once",
	[PLAN_SWITCH_SERVERS] = "applies to mode map only: mode servers "
				"moves traffic with the weights of servers "
				"in backend",
};

#define MAP_WHAT "a map as HAProxy names it, like /etc/haproxy/bg.map " \
		 "(no control characters)"
#define KEY_WHAT "a map key (no spaces or control characters)"
#define SRVSET_WHAT "a list of server names or a glob like blue-*"
#define STEPS_WHAT "a list of percentages like [10%, 50%, 100%]"
#define STEP_WHAT "a percentage from 1% to 100%"

/* Not empty, no control character; with `no_space`, no space either. */
static bool text_ok(const struct plan_ynode *n, bool no_space)
{
	size_t i;

	if (!plan_yaml_is_str(n) || n->len == 0)
		return false;
	for (i = 0; i < n->len; i++) {
		unsigned char ch = (unsigned char)n->text[i];

		if (ch < 0x20 || ch == 0x7f || (no_space && ch == ' '))
			return false;
	}
	return true;
}

/* map mode: map, key, blue and green backends, write_file. */
static int parse_map_mode(const struct plan_yctx *y, struct plan_switch *sw,
			  const struct plan_ynode *n,
			  const struct plan_ynode *const *v)
{
	int rc;

	if (v[SW_K_MAP] == NULL)
		return plan_yaml_missing(y, n, "switch", "map");
	if (v[SW_K_BLUE] == NULL)
		return plan_yaml_missing(y, n, "switch", "blue");
	if (v[SW_K_GREEN] == NULL)
		return plan_yaml_missing(y, n, "switch", "green");
	if (!text_ok(v[SW_K_MAP], false))
		return plan_yaml_expected(y, v[SW_K_MAP], "switch.map",
					  MAP_WHAT);
	rc = plan_yaml_get_str(y, v[SW_K_MAP], "switch.map", MAP_WHAT,
			       &sw->map);
	if (rc == 0 && v[SW_K_KEY] != NULL && !text_ok(v[SW_K_KEY], true))
		rc = plan_yaml_expected(y, v[SW_K_KEY], "switch.key", KEY_WHAT);
	else if (rc == 0 && v[SW_K_KEY] != NULL)
		rc = plan_yaml_get_str(y, v[SW_K_KEY], "switch.key", KEY_WHAT,
				       &sw->key);
	if (rc == 0 && v[SW_K_KEY] == NULL) {
		sw->key = strdup("active");
		rc = sw->key == NULL ? plan_yaml_oom(y) : 0;
	}
	if (rc == 0 && !(plan_yaml_is_str(v[SW_K_BLUE]) &&
			 plan_name_ok(v[SW_K_BLUE]->text, false)))
		rc = plan_yaml_expected(y, v[SW_K_BLUE], "switch.blue",
					PLAN_NAME_WHAT);
	if (rc == 0 && !(plan_yaml_is_str(v[SW_K_GREEN]) &&
			 plan_name_ok(v[SW_K_GREEN]->text, false)))
		rc = plan_yaml_expected(y, v[SW_K_GREEN], "switch.green",
					PLAN_NAME_WHAT);
	if (rc == 0 && strcmp(v[SW_K_BLUE]->text, v[SW_K_GREEN]->text) == 0)
		rc = plan_yaml_node_err(y, v[SW_K_GREEN], "switch.green: the "
					"same backend as switch.blue ('%s'); "
					"blue and green must differ",
					v[SW_K_GREEN]->text);
	if (rc == 0)
		rc = plan_yaml_get_str(y, v[SW_K_BLUE], "switch.blue", "",
				       &sw->blue_backend);
	if (rc == 0)
		rc = plan_yaml_get_str(y, v[SW_K_GREEN], "switch.green", "",
				       &sw->green_backend);
	sw->write_file = true;
	if (rc == 0 && v[SW_K_WRITE_FILE] != NULL)
		rc = plan_yaml_get_bool(y, v[SW_K_WRITE_FILE],
					"switch.write_file", &sw->write_file);
	return rc;
}

/* A list of server names (one name alone is a list of one) or a glob;
 * "all" is refused: blue and green are two parts of one backend. */
static int parse_srvset(const struct plan_yctx *y, const struct plan_ynode *n,
			const char *path, struct plan_srvset *s)
{
	const struct plan_ynode *item = n;
	size_t i, count = n->kind == PLAN_YNODE_SEQ ? n->n : 1, dup, orig = 0;
	char ipath[64];
	int rc;

	s->line = n->line;
	s->col = n->col;
	if (plan_yaml_is_str(n) && strcmp(n->text, "all") == 0)
		return plan_yaml_node_err(y, n, "%s: all is not allowed here "
					  "(blue and green are two sets of "
					  "servers of backend: give a list or "
					  "a glob)", path);
	if (plan_yaml_is_str(n) && strpbrk(n->text, "*?[") != NULL &&
	    plan_name_ok(n->text, true)) {
		s->kind = PLAN_SERVERS_PATTERN;
		return plan_yaml_get_str(y, n, path, "", &s->pattern);
	}
	if (n->kind != PLAN_YNODE_SEQ &&
	    !(plan_yaml_is_str(n) && plan_name_ok(n->text, false)))
		return plan_yaml_expected(y, n, path, SRVSET_WHAT);
	if (count == 0)
		return plan_yaml_node_err(y, n, "%s: the list is empty", path);
	s->kind = PLAN_SERVERS_LIST;
	s->names = calloc(count, sizeof(*s->names));
	if (s->names == NULL)
		return plan_yaml_oom(y);
	s->n = count;
	for (i = 0; i < count; i++) {
		snprintf(ipath, sizeof(ipath), "%s", path);
		if (n->kind == PLAN_YNODE_SEQ) {
			item = n->kids[i];
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		}
		if (!plan_yaml_is_str(item) ||
		    !plan_name_ok(item->text, false))
			return plan_yaml_expected(y, item, ipath,
						  PLAN_NAME_WHAT);
		rc = plan_yaml_get_str(y, item, ipath, "", &s->names[i]);
		if (rc != 0)
			return rc;
	}
	if (plan_find_duplicate(s->names, count, &dup, &orig) != 0)
		return plan_yaml_oom(y);
	if (dup < count)
		return plan_yaml_node_err(y, n->kids[dup], "%s[%zu]: duplicate "
					  "server '%s' (first at %d:%d)", path,
					  dup, s->names[dup],
					  n->kids[orig]->line,
					  n->kids[orig]->col);
	return 0;
}

/* Item i of a list written as a list, or the list itself (one name). */
static const struct plan_ynode *item_node(const struct plan_ynode *n,
					  size_t i)
{
	return n->kind == PLAN_YNODE_SEQ ? n->kids[i] : n;
}

/* No server may be both blue and green, as far as the plan can tell:
 * two lists, a list and a glob, two equal globs. Two different globs
 * may still meet on a live backend; bluegreen checks that. */
static int check_overlap(const struct plan_yctx *y,
			 const struct plan_switch *sw,
			 const struct plan_ynode *bn,
			 const struct plan_ynode *gn)
{
	const struct plan_srvset *b = &sw->blue, *g = &sw->green;
	size_t i, dup, orig = 0;
	char **all;

	if (b->kind == PLAN_SERVERS_PATTERN && g->kind == PLAN_SERVERS_PATTERN)
		return strcmp(b->pattern, g->pattern) != 0 ? 0 :
		       plan_yaml_node_err(y, gn, "switch.green: the same glob "
					  "as switch.blue ('%s'); blue and "
					  "green must differ", g->pattern);
	for (i = 0; b->kind == PLAN_SERVERS_PATTERN && i < g->n; i++)
		if (fnmatch(b->pattern, g->names[i], 0) == 0)
			return plan_yaml_node_err(y, item_node(gn, i), "switch."
						  "green[%zu]: server '%s' "
						  "matches switch.blue ('%s') "
						  "too", i, g->names[i],
						  b->pattern);
	for (i = 0; g->kind == PLAN_SERVERS_PATTERN && i < b->n; i++)
		if (fnmatch(g->pattern, b->names[i], 0) == 0)
			return plan_yaml_node_err(y, item_node(bn, i), "switch."
						  "blue[%zu]: server '%s' "
						  "matches switch.green ('%s') "
						  "too", i, b->names[i],
						  g->pattern);
	if (b->kind != PLAN_SERVERS_LIST || g->kind != PLAN_SERVERS_LIST)
		return 0;
	/* Each list has no repeat: a repeat in both is green meeting blue. */
	all = malloc((b->n + g->n) * sizeof(*all));
	if (all == NULL)
		return plan_yaml_oom(y);
	memcpy(all, b->names, b->n * sizeof(*all));
	memcpy(all + b->n, g->names, g->n * sizeof(*all));
	dup = b->n + g->n;
	if (plan_find_duplicate(all, b->n + g->n, &dup, &orig) != 0) {
		free(all);
		return plan_yaml_oom(y);
	}
	free(all);
	if (dup == b->n + g->n)
		return 0;
	return plan_yaml_node_err(y, item_node(gn, dup - b->n), "switch.green"
				  "[%zu]: server '%s' is also in switch.blue "
				  "(at %d:%d)", dup - b->n,
				  g->names[dup - b->n],
				  item_node(bn, orig)->line,
				  item_node(bn, orig)->col);
}

/* [10%, 50%, 100%]: whole percentages from 1 to 100, increasing, the
 * last 100. */
static int parse_steps(const struct plan_yctx *y, struct plan_switch *sw,
		       const struct plan_ynode *n)
{
	char path[64], num[8];
	size_t i;
	long v;

	if (n->kind != PLAN_YNODE_SEQ)
		return plan_yaml_expected(y, n, "switch.steps", STEPS_WHAT);
	if (n->n == 0)
		return plan_yaml_node_err(y, n, "switch.steps: the list is "
					  "empty (leave steps out for a single "
					  "step of 100%%)");
	sw->steps = calloc(n->n, sizeof(*sw->steps));
	if (sw->steps == NULL)
		return plan_yaml_oom(y);
	sw->nsteps = n->n;
	for (i = 0; i < n->n; i++) {
		const struct plan_ynode *it = n->kids[i];

		snprintf(path, sizeof(path), "switch.steps[%zu]", i);
		if (!plan_yaml_is_str(it) || it->len < 2 ||
		    it->len > sizeof(num) || it->text[0] < '0' ||
		    it->text[0] > '9' || it->text[it->len - 1] != '%')
			return plan_yaml_expected(y, it, path, STEP_WHAT);
		memcpy(num, it->text, it->len - 1);
		num[it->len - 1] = '\0';
		if (str_parse_long(num, 1, 100, &v) != 0)
			return plan_yaml_expected(y, it, path, STEP_WHAT);
		if (i > 0 && (unsigned)v <= sw->steps[i - 1])
			return plan_yaml_node_err(y, it, "%s: %ld%% does not "
						  "come after %u%% (steps must "
						  "increase)", path, v,
						  sw->steps[i - 1]);
		sw->steps[i] = (unsigned)v;
	}
	if (sw->steps[n->n - 1] != 100)
		return plan_yaml_node_err(y, n->kids[n->n - 1], "%s: the last "
					  "step must be 100%% (all traffic on "
					  "green), got %u%%", path,
					  sw->steps[n->n - 1]);
	return 0;
}

/* servers mode: blue and green server sets of plan.backend, min_green,
 * steps. */
static int parse_servers_mode(const struct plan_yctx *y,
			      struct plan_switch *sw,
			      const struct plan_ynode *n,
			      const struct plan_ynode *const *v)
{
	int rc;

	if (v[SW_K_BLUE] == NULL)
		return plan_yaml_missing(y, n, "switch", "blue");
	if (v[SW_K_GREEN] == NULL)
		return plan_yaml_missing(y, n, "switch", "green");
	rc = parse_srvset(y, v[SW_K_BLUE], "switch.blue", &sw->blue);
	if (rc == 0)
		rc = parse_srvset(y, v[SW_K_GREEN], "switch.green", &sw->green);
	if (rc == 0)
		rc = check_overlap(y, sw, v[SW_K_BLUE], v[SW_K_GREEN]);
	if (rc == 0 && v[SW_K_MIN_GREEN] != NULL)
		rc = plan_yaml_get_uint(y, v[SW_K_MIN_GREEN],
					"switch.min_green", 1, &sw->min_green);
	if (rc == 0 && sw->green.kind == PLAN_SERVERS_LIST &&
	    sw->min_green > sw->green.n)
		rc = plan_yaml_node_err(y, v[SW_K_MIN_GREEN], "switch."
					"min_green: %u is more than the %zu "
					"server%s of switch.green",
					sw->min_green,
					sw->green.n,
					sw->green.n == 1 ? "" : "s");
	if (rc == 0 && v[SW_K_STEPS] != NULL)
		rc = parse_steps(y, sw, v[SW_K_STEPS]);
	return rc;
}

int plan_switch_parse(const struct plan_yctx *y, struct plan_switch *sw,
		      const struct plan_ynode *key,
		      const struct plan_ynode *n)
{
	const struct plan_ynode *v[SW_K_COUNT];
	size_t i, k;
	unsigned e;
	int rc;

	sw->present = true;
	sw->line = key->line;
	sw->col = key->col;
	rc = plan_yaml_map(y, n, "switch", switch_keys, SW_K_COUNT, v);
	if (rc != 0)
		return rc;
	if (v[SW_K_MODE] == NULL)
		return plan_yaml_missing(y, n, "switch", "mode");
	rc = plan_yaml_get_enum(y, v[SW_K_MODE], "switch.mode",
				switch_mode_names, PLAN_SWITCH_MODE_COUNT, &e);
	if (rc != 0)
		return rc;
	sw->mode = (enum plan_switch_mode)e;
	/* Keys of the other mode, in file order (the keys are known). */
	for (i = 0; i + 1 < n->n; i += 2) {
		for (k = 0; strcmp(n->kids[i]->text, switch_keys[k]) != 0; k++)
			;
		if (switch_key_mode[k] != PLAN_SWITCH_MODE_COUNT &&
		    switch_key_mode[k] != sw->mode)
			return plan_yaml_node_err(y, n->kids[i], "switch.%s %s",
						  switch_keys[k],
						  other_mode_why[sw->mode]);
	}
	if (sw->mode == PLAN_SWITCH_MAP)
		rc = parse_map_mode(y, sw, n, v);
	else
		rc = parse_servers_mode(y, sw, n, v);
	if (rc == 0 && sw->steps == NULL) {
		/* One step of 100%: a map switch is one, too. */
		sw->steps = calloc(1, sizeof(*sw->steps));
		if (sw->steps == NULL)
			return plan_yaml_oom(y);
		sw->steps[0] = 100;
		sw->nsteps = 1;
	}
	return rc;
}

/* The hook stages of a rolling upgrade, refused with a switch. */
static bool rolling_stage(enum plan_hook_stage s)
{
	return s < PLAN_HOOK_BEFORE_SWITCH;
}

/* A stage key of `hooks` that does not fit the plan, in file order. */
static int check_hook_stages(const struct plan_yctx *y,
			     const struct plan *p,
			     const struct plan_ynode *hooks)
{
	size_t i;
	unsigned s;

	for (i = 0; hooks->kind == PLAN_YNODE_MAP && i + 1 < hooks->n;
	     i += 2) {
		const struct plan_ynode *k = hooks->kids[i];

		if (!plan_yaml_is_str(k))
			continue;	/* parse_hooks() says so */
		for (s = 0; s < PLAN_HOOK_STAGE_COUNT; s++)
			if (strcmp(k->text, plan_hook_stage_name(s)) == 0)
				break;
		if (s == PLAN_HOOK_STAGE_COUNT)
			continue;
		if (!p->sw.present && !rolling_stage(s))
			return plan_yaml_node_err(y, k, "hooks.%s needs a "
						  "switch: section", k->text);
		if (p->sw.present && rolling_stage(s))
			return plan_yaml_node_err(y, k, "hooks.%s does not "
						  "apply to a blue/green "
						  "switch%s", k->text,
						  s == PLAN_HOOK_ON_FAILURE ?
						  "; use on_rollback" : "");
	}
	return 0;
}

int plan_switch_check(const struct plan_yctx *y, struct plan *p,
		      const struct plan_ynode *root)
{
	static const char *const rolling_only[][2] = {
		{ "servers", "switch.blue and switch.green name them" },
		{ "strategy", "it says how a rolling upgrade takes each "
			      "server out" },
		{ "rolling", "blue and green are switched as a whole, not in "
			     "batches" },
	};
	const struct plan_ynode *k, *hooks = NULL;
	size_t i;
	int rc = 0;

	plan_yaml_find_key(root, "hooks", &hooks);
	if (!p->sw.present)
		return hooks != NULL ? check_hook_stages(y, p, hooks) : 0;
	for (i = 0; i < sizeof(rolling_only) / sizeof(rolling_only[0]); i++) {
		k = plan_yaml_find_key(root, rolling_only[i][0], NULL);
		if (k != NULL)
			return plan_yaml_node_err(y, k, "%s: not used with "
						  "switch (%s)",
						  rolling_only[i][0],
						  rolling_only[i][1]);
	}
	k = plan_yaml_find_key(root, "backend", NULL);
	if (p->sw.mode == PLAN_SWITCH_MAP && k != NULL)
		return plan_yaml_node_err(y, k, "backend: not used with "
					  "switch.mode map (the map's blue and "
					  "green name the backends)");
	if (p->sw.mode == PLAN_SWITCH_SERVERS && k == NULL)
		return plan_yaml_node_err(y, root, "missing required key "
					  "'backend' (switch.mode servers "
					  "moves traffic between servers of "
					  "one backend)");
	if (hooks != NULL)
		rc = check_hook_stages(y, p, hooks);
	if (rc == 0 && p->sw.mode == PLAN_SWITCH_MAP) {
		/* The rest of cutover checks the backend that gets traffic. */
		p->backend = strdup(p->sw.green_backend);
		if (p->backend == NULL)
			rc = plan_yaml_oom(y);
	}
	return rc;
}

static void srvset_free(struct plan_srvset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->pattern);
}

void plan_switch_free(struct plan_switch *sw)
{
	free(sw->map);
	free(sw->key);
	free(sw->blue_backend);
	free(sw->green_backend);
	srvset_free(&sw->blue);
	srvset_free(&sw->green);
	free(sw->steps);
	memset(sw, 0, sizeof(*sw));
}
