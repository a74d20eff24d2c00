/* cli.h - command line: the command table, options, exit codes and help.
 * Exit codes are defined here once and documented in `cutover --help`. */
#ifndef CUT_CLI_H
#define CUT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet.h"

/* Stable exit codes: scripts depend on them. */
enum cut_exit {
	EXIT_OK = 0,		/* done */
	EXIT_FAILED = 1,	/* failed, everything left in a safe, stated state */
	EXIT_USAGE = 2,		/* bad arguments, unknown backend/server, bad plan */
	EXIT_LB = 3,		/* an LB unreachable, refusing, or answering garbage;
				 * nothing left half-changed */
	EXIT_TIMEOUT = 4,	/* a wait reached its deadline; state left as is */
	EXIT_INTERRUPTED = 5,	/* SIGINT/SIGTERM */
	EXIT_LOCKED = 6,	/* another run holds the lock */
	EXIT_UNSAFE = 7,	/* a change could not be undone: check by hand */
};

/* The exit code for an error code (CUT_E*, UV_E*). */
enum cut_exit cli_exit_for(int code);

enum cli_cmd {
	CMD_STATUS = 0,
	CMD_DRAIN,
	CMD_UNDRAIN,
	CMD_MAINT,
	CMD_WEIGHT,
	CMD_WAIT,
	CMD_ROLLOUT,
	CMD_SHED,
	CMD_SWITCH,
	CMD_RESUME,
	CMD_HELP,
	CMD_VERSION,
	CMD_COUNT		/* keep last */
};

/* Options, as given. Durations in ms. */
struct cli_opts {
	enum cli_cmd cmd;
	const char **lbs;
	size_t nlb;
	uint64_t lb_timeout_ms;
	uint64_t lb_retry_ms;	/* changes: retry an LB that does not answer */
	bool json;
	int verbose;
	int quiet;
	bool wait;		/* drain --wait */
	bool wait_up;		/* undrain --wait-up */
	uint64_t timeout_ms;	/* wait deadline; 0 = none */
	uint64_t poll_ms;
	bool watch;
	uint64_t interval_ms;
	enum fleet_cond until;	/* wait --until */
	bool then_maint;	/* drain --then maint */
	bool dry_run;		/* rollout --dry-run */
	bool yes;		/* rollout --yes: no confirmation */
	bool lbs_from_cli;	/* --lb given (else CUTOVER_LB or none) */
	bool timeout_set;	/* --timeout given */
	double rate;		/* shed --rate, per second */
	double jitter;		/* shed --jitter, 0..1 */
	long budget;		/* shed --budget; -1 = off */
	bool to_blue;		/* switch --to blue */
	bool abort;		/* resume --abort */
	const char **args;	/* positional arguments after the command */
	size_t nargs;
	char *lb_env_copy;	/* owned copy of CUTOVER_LB, split in place */
};

/* Parse argv. On error prints the message (and usage) to stderr and
 * returns EXIT_USAGE; for --help/--version prints and returns -1 with
 * *exit_now = EXIT_OK. Returns 0 to go on. */
int cli_parse(int argc, char **argv, struct cli_opts *o);
void cli_opts_free(struct cli_opts *o);
void cli_usage(FILE *f);

#endif
