/* cli.c - the command table, option parsing, help text and exit codes.
 * One table says which command takes which arguments and options, so the
 * help and the checks cannot drift apart. */
#include "cli.h"
#include "master.h"
#include "shed.h"
#include "strutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUTOVER_VERSION "0.1.0"

enum opt_id {
	OPT_LB = 0,
	OPT_LB_TIMEOUT,
	OPT_LB_RETRY,
	OPT_JSON,
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_WAIT,
	OPT_WAIT_UP,
	OPT_TIMEOUT,
	OPT_POLL,
	OPT_WATCH,
	OPT_INTERVAL,
	OPT_UNTIL,
	OPT_THEN,
	OPT_DRY_RUN,
	OPT_YES,
	OPT_RATE,
	OPT_JITTER,
	OPT_BUDGET,
	OPT_TO,
	OPT_ABORT,
	OPT_HELP,
	OPT_VERSION,
	OPT_COUNT		/* keep last */
};

#define O(x) (1u << (x))
#define GLOBAL_OPTS (O(OPT_LB) | O(OPT_LB_TIMEOUT) | O(OPT_LB_RETRY) | \
		     O(OPT_JSON) | \
		     O(OPT_VERBOSE) | O(OPT_QUIET) | O(OPT_HELP))

struct cli_cmd_desc {
	const char *name;
	const char *args;
	int min_args, max_args;	/* max -1: no limit */
	unsigned opts;		/* allowed besides GLOBAL_OPTS */
	const char *help;
};

static const struct cli_cmd_desc cmds[CMD_COUNT] = {
	[CMD_STATUS] = { "status", "[BACKEND | BACKEND/SERVER | SERVER]", 0, 1,
			 O(OPT_WATCH) | O(OPT_INTERVAL),
			 "show every server on every load balancer" },
	[CMD_DRAIN] = { "drain", "NAME...", 1, -1,
			O(OPT_WAIT) | O(OPT_TIMEOUT) | O(OPT_POLL) | O(OPT_THEN),
			"stop sending new traffic; --wait returns when sessions "
			"reach 0 on every LB" },
	[CMD_UNDRAIN] = { "undrain", "NAME...", 1, -1,
			  O(OPT_WAIT_UP) | O(OPT_TIMEOUT) | O(OPT_POLL),
			  "put back in service (ready); --wait-up returns when "
			  "every LB reports it UP" },
	[CMD_MAINT] = { "maint", "NAME...", 1, -1, 0,
			"maintenance: no traffic at all (sessions are NOT cut)" },
	[CMD_WEIGHT] = { "weight", "NAME... N|N%", 2, -1, 0,
			 "set the weight, absolute (0-256) or % of the "
			 "configured one" },
	[CMD_WAIT] = { "wait", "NAME...", 1, -1,
		       O(OPT_UNTIL) | O(OPT_TIMEOUT) | O(OPT_POLL),
		       "wait --until drained|up on every LB" },
	[CMD_ROLLOUT] = { "rollout", "PLAN.yaml", 1, 1,
			  O(OPT_DRY_RUN) | O(OPT_YES) | O(OPT_POLL),
			  "rolling upgrade as the plan says (--dry-run: show "
			  "every step)" },
	[CMD_SHED] = { "shed", "BACKEND/SERVER --rate N/s", 1, 1,
		       O(OPT_RATE) | O(OPT_JITTER) | O(OPT_BUDGET) |
		       O(OPT_TIMEOUT),
		       "close a server's remaining sessions one by one at a "
		       "pace (drains it first)" },
	[CMD_SWITCH] = { "switch", "PLAN.yaml [--to blue]", 1, 1,
			 O(OPT_TO) | O(OPT_DRY_RUN) | O(OPT_YES) | O(OPT_POLL),
			 "blue/green: verify green, switch every LB, watch, "
			 "drain blue, retire" },
	[CMD_RESUME] = { "resume", "[RUN-ID | JOURNAL | PLAN.yaml]", 0, 1,
			 O(OPT_ABORT) | O(OPT_YES) | O(OPT_POLL),
			 "finish an interrupted or crashed rollout or switch "
			 "from its journal (--abort: put back what was only "
			 "drained, or switch back)" },
	[CMD_HELP] = { "help", "", 0, 0, 0, "this help" },
	[CMD_VERSION] = { "version", "", 0, 0, 0, "print the version" },
};

static const struct option long_opts[] = {
	{ "lb", required_argument, NULL, OPT_LB },
	{ "lb-timeout", required_argument, NULL, OPT_LB_TIMEOUT },
	{ "lb-retry", required_argument, NULL, OPT_LB_RETRY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "wait-up", no_argument, NULL, OPT_WAIT_UP },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "poll", required_argument, NULL, OPT_POLL },
	{ "watch", no_argument, NULL, OPT_WATCH },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "then", required_argument, NULL, OPT_THEN },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "yes", no_argument, NULL, OPT_YES },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "to", required_argument, NULL, OPT_TO },
	{ "abort", no_argument, NULL, OPT_ABORT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int id)
{
	size_t i;

	for (i = 0; long_opts[i].name != NULL; i++)
		if (long_opts[i].val == id)
			return long_opts[i].name;
	return "?";
}

void cli_usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: cutover [--lb ADDR]... COMMAND [ARGS] [OPTIONS]\n"
		"\n"
		"Take servers behind one or more HAProxy load balancers out of\n"
		"service and back, safely, on every load balancer at once.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < CMD_COUNT; i++)
		fprintf(f, "  %-8s %-36s %s\n", cmds[i].name, cmds[i].args,
			cmds[i].help);
	fprintf(f,
		"\n"
		"NAME is BACKEND/SERVER, or SERVER alone for every backend that\n"
		"has it (acted on in parallel).\n"
		"\n"
		"Options:\n"
		"  --lb unix:PATH | tcp:HOST:PORT  an HAProxy admin socket; repeat\n"
		"                        for several LBs (default: $CUTOVER_LB,\n"
		"                        comma-separated). Append\n"
		"                        ,master=unix:PATH (or tcp:) to give its\n"
		"                        master CLI: waits then also count the\n"
		"                        sessions old workers keep after a reload\n"
		"  --lb-timeout DUR      per runtime command (default 5s)\n"
		"  --json                machine output (one JSON document)\n"
		"  -v, --verbose         more logs on stderr (repeat for debug)\n"
		"  -q, --quiet           only errors\n"
		"  --wait                drain: return when sessions reach 0\n"
		"  --wait-up             undrain: return when UP on every LB\n"
		"  --timeout DUR         deadline of a wait (drain 10m, up 2m;\n"
		"                        0 = none)\n"
		"  --poll DUR            how often a wait looks (default 50ms)\n"
		"  --then maint          drain: once drained, go to maint\n"
		"  --until drained|up    wait: the condition\n"
		"  --watch               status: refresh in place\n"
		"  --interval DUR        status --watch period (default 1s)\n"
		"  --dry-run             rollout: validate against the live LBs,\n"
		"                        print every command and hook; change nothing\n"
		"  --yes                 rollout: do not ask for confirmation\n"
		"  --rate N/s            shed: sessions closed per second (all\n"
		"                        LBs together); also N/m\n"
		"  --jitter P%%           shed: vary each gap by up to P%%\n"
		"  --to green|blue       switch: the side to send traffic to\n"
		"                        (blue: switch back by hand)\n"
		"  --budget N            shed: never run more than N closes ahead\n"
		"                        of the clients showing up elsewhere\n"
		"DUR: 250ms, 30s, 5m, 1h30m; a bare number is seconds.\n"
		"\n"
		"Exit codes:\n"
		"  0  done\n"
		"  1  failed; everything left in a safe state that is reported\n"
		"  2  usage: bad arguments, unknown backend or server\n"
		"  3  a load balancer is unreachable, refused (e.g. socket not at\n"
		"     admin level) or answered garbage; nothing was changed\n"
		"  4  a wait reached its --timeout; the state is left as it is\n"
		"     (a drained server stays drained)\n"
		"  5  interrupted (SIGINT/SIGTERM)\n"
		"  6  another cutover run holds the lock\n"
		"  7  a change could not be undone on some LB: check by hand\n");
}

enum cut_exit cli_exit_for(int code)
{
	switch (code) {
	case 0:
		return EXIT_OK;
	case CUT_EUSAGE:
	case CUT_ENOBACKEND:
	case CUT_ENOSERVER:
		return EXIT_USAGE;
	case CUT_ETIMEOUT:
		return EXIT_TIMEOUT;
	case CUT_ECANCELED:
		return EXIT_INTERRUPTED;
	case CUT_EUNDO:
		return EXIT_UNSAFE;
	case CUT_ECHANGED:
		return EXIT_FAILED;
	case CUT_ELOCKED:
		return EXIT_LOCKED;
	default:
		return EXIT_LB;
	}
}

static int usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "cutover: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n(cutover --help for usage)\n");
	return EXIT_USAGE;
}

static int parse_dur(const char *opt, const char *val, uint64_t *out)
{
	if (str_parse_duration_ms(val, out) != 0)
		return usage_error("--%s: bad duration '%s' (e.g. 500ms, 30s, 5m)",
				   opt, val);
	return 0;
}

/* CUTOVER_LB="unix:/a,tcp:h:1" when no --lb was given. A segment that
 * starts with "master=" belongs to the LB before it:
 * "unix:/a,master=unix:/am,tcp:h:1" is two LBs, the first with a master
 * CLI. */
static int lbs_from_env(struct cli_opts *o)
{
	const char *env = getenv("CUTOVER_LB");
	char *p, *start, *next;
	size_t n = 0;

	if (env == NULL || *env == '\0')
		return 0;
	free(o->lbs);
	o->lb_env_copy = strdup(env);
	o->lbs = calloc(strlen(env) / 2 + 2, sizeof(*o->lbs));
	if (o->lb_env_copy == NULL || o->lbs == NULL)
		return usage_error("%s%s", "out of memory", "");
	start = o->lb_env_copy;
	for (p = start; p != NULL; p = next) {
		next = strchr(p, ',');
		while (next != NULL &&
		       strncmp(next + 1, MASTER_OPT, strlen(MASTER_OPT)) == 0)
			next = strchr(next + 1, ',');
		if (next != NULL)
			*next++ = '\0';
		if (*p == '\0')
			continue;
		if (strncmp(p, MASTER_OPT, strlen(MASTER_OPT)) == 0)
			return usage_error("CUTOVER_LB: '%s' follows no load "
					   "balancer address%s", p, "");
		o->lbs[n++] = p;
	}
	o->nlb = n;
	return 0;
}

static int find_cmd(const char *name, enum cli_cmd *out)
{
	size_t i;

	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(cmds[i].name, name) == 0) {
			*out = (enum cli_cmd)i;
			return 0;
		}
	if (strcmp(name, "ready") == 0) {
		*out = CMD_UNDRAIN;
		return 0;
	}
	return -1;
}

int cli_parse(int argc, char **argv, struct cli_opts *o)
{
	bool seen[OPT_COUNT] = { false };
	const struct cli_cmd_desc *d;
	int c, rc, first;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->budget = -1;
	o->lb_timeout_ms = 5000;
	o->poll_ms = 50;
	o->interval_ms = 1000;
	o->lbs = calloc((size_t)argc + 1, sizeof(*o->lbs));
	if (o->lbs == NULL)
		return EXIT_USAGE;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":vqh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			c = OPT_VERBOSE;
			break;
		case 'q':
			c = OPT_QUIET;
			break;
		case 'h':
			c = OPT_HELP;
			break;
		case ':':
			return usage_error("option %s needs a value%s",
					   argv[optind - 1], "");
		case '?':
			return usage_error("unknown option '%s'%s",
					   argv[optind - 1], "");
		default:
			break;
		}
		seen[c] = true;
		switch (c) {
		case OPT_LB:
			o->lbs[o->nlb++] = optarg;
			break;
		case OPT_LB_RETRY:
			if ((rc = parse_dur("lb-retry", optarg,
					    &o->lb_retry_ms)) != 0)
				return rc;
			break;
		case OPT_LB_TIMEOUT:
			if ((rc = parse_dur("lb-timeout", optarg,
					    &o->lb_timeout_ms)) != 0)
				return rc;
			if (o->lb_timeout_ms == 0)
				return usage_error("--lb-timeout must be more "
						   "than 0%s%s", "", "");
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_VERBOSE:
			o->verbose++;
			break;
		case OPT_QUIET:
			o->quiet++;
			break;
		case OPT_WAIT:
			o->wait = true;
			break;
		case OPT_WAIT_UP:
			o->wait_up = true;
			break;
		case OPT_TIMEOUT:
			if ((rc = parse_dur("timeout", optarg, &o->timeout_ms)) != 0)
				return rc;
			break;
		case OPT_POLL:
			if ((rc = parse_dur("poll", optarg, &o->poll_ms)) != 0)
				return rc;
			if (o->poll_ms < 10)
				return usage_error("--poll must be at least "
						   "10ms%s%s", "", "");
			break;
		case OPT_WATCH:
			o->watch = true;
			break;
		case OPT_INTERVAL:
			if ((rc = parse_dur("interval", optarg,
					    &o->interval_ms)) != 0)
				return rc;
			if (o->interval_ms < 100)
				return usage_error("--interval must be at "
						   "least 100ms%s%s", "", "");
			break;
		case OPT_UNTIL:
			if (strcmp(optarg, "drained") == 0)
				o->until = FLEET_UNTIL_DRAINED;
			else if (strcmp(optarg, "up") == 0)
				o->until = FLEET_UNTIL_UP;
			else
				return usage_error("--until: '%s' is not "
						   "drained or up%s", optarg, "");
			break;
		case OPT_THEN:
			if (strcmp(optarg, "maint") != 0)
				return usage_error("--then: only 'maint' is "
						   "supported, not '%s'%s",
						   optarg, "");
			o->then_maint = true;
			break;
		case OPT_DRY_RUN:
			o->dry_run = true;
			break;
		case OPT_YES:
			o->yes = true;
			break;
		case OPT_RATE:
			if (shed_parse_rate(optarg, &o->rate) != 0)
				return usage_error("--rate: '%s' is not a rate "
						   "like 50/s or 3000/m%s",
						   optarg, "");
			break;
		case OPT_JITTER: {
			int w;
			bool pct;

			if (str_parse_weight(optarg, &w, &pct) != 0 || !pct)
				return usage_error("--jitter: '%s' is not a "
						   "percentage like 20%%%s",
						   optarg, "");
			o->jitter = w / 100.0;
			break;
		}
		case OPT_TO:
			if (strcmp(optarg, "blue") == 0)
				o->to_blue = true;
			else if (strcmp(optarg, "green") != 0)
				return usage_error("--to: '%s' is not green or "
						   "blue%s", optarg, "");
			break;
		case OPT_BUDGET: {
			long b;

			if (str_parse_long(optarg, 0, 1000000, &b) != 0)
				return usage_error("--budget: '%s' is not a "
						   "number of sessions%s", optarg,
						   "");
			o->budget = b;
			break;
		}
		case OPT_ABORT:
			o->abort = true;
			break;
		case OPT_HELP:
			break;
		case OPT_VERSION:
			break;
		}
	}
	if (seen[OPT_VERSION]) {
		o->cmd = CMD_VERSION;
		printf("cutover %s\n", CUTOVER_VERSION);
		return 0;
	}
	first = optind;
	if (seen[OPT_HELP] || first >= argc) {
		o->cmd = CMD_HELP;
		cli_usage(first >= argc && !seen[OPT_HELP] ? stderr : stdout);
		return first >= argc && !seen[OPT_HELP] ? EXIT_USAGE : 0;
	}
	if (find_cmd(argv[first], &o->cmd) != 0)
		return usage_error("unknown command '%s'%s", argv[first], "");
	d = &cmds[o->cmd];
	if (o->cmd == CMD_HELP) {
		cli_usage(stdout);
		return 0;
	}
	if (o->cmd == CMD_VERSION) {
		printf("cutover %s\n", CUTOVER_VERSION);
		return 0;
	}
	for (i = 0; i < OPT_COUNT; i++)
		if (seen[i] && !((GLOBAL_OPTS | d->opts) & O(i)))
			return usage_error("option --%s does not apply to '%s'",
					   opt_name((int)i), d->name);
	o->args = (const char **)&argv[first + 1];
	o->nargs = (size_t)(argc - first - 1);
	if ((int)o->nargs < d->min_args ||
	    (d->max_args >= 0 && (int)o->nargs > d->max_args))
		return usage_error("usage: cutover %s %s", d->name, d->args);
	o->timeout_set = seen[OPT_TIMEOUT];
	if (o->cmd == CMD_SHED && !seen[OPT_RATE])
		return usage_error("shed needs --rate, e.g. --rate 50/s%s%s", "",
				   "");
	if (o->cmd == CMD_WAIT && !seen[OPT_UNTIL])
		return usage_error("wait needs --until drained|up%s%s", "", "");
	if (!seen[OPT_TIMEOUT])
		o->timeout_ms = (o->cmd == CMD_UNDRAIN ||
				 (o->cmd == CMD_WAIT && o->until == FLEET_UNTIL_UP))
					? 2 * 60 * 1000
					: 10 * 60 * 1000;
	if (o->cmd == CMD_DRAIN && o->then_maint)
		o->wait = true;	/* "then" means after the drain completed */
	if (o->cmd == CMD_DRAIN && seen[OPT_TIMEOUT] && !o->wait)
		return usage_error("--timeout needs --wait%s%s", "", "");
	if (o->dry_run && o->json)
		return usage_error("--dry-run prints text for people; it has no "
				   "--json form%s%s", "", "");
	if (o->cmd == CMD_UNDRAIN && seen[OPT_TIMEOUT] && !o->wait_up)
		return usage_error("--timeout needs --wait-up%s%s", "", "");
	/* A run keeps trying an LB that stops answering for a while before
	 * it stops safely; a command typed by hand fails at once. */
	if (!seen[OPT_LB_RETRY])
		o->lb_retry_ms = o->cmd == CMD_ROLLOUT || o->cmd == CMD_SWITCH ||
					 o->cmd == CMD_RESUME
				 ? 30000
				 : 0;
	o->lbs_from_cli = o->nlb > 0;
	if (o->nlb == 0 && (rc = lbs_from_env(o)) != 0)
		return rc;
	return 0;
}

void cli_opts_free(struct cli_opts *o)
{
	free(o->lbs);
	free(o->lb_env_copy);
	o->lbs = NULL;
	o->lb_env_copy = NULL;
}
