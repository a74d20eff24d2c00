/* confirm.h - ask the operator a yes/no question on the terminal without
 * blocking the loop (uv_tty on stdin in line mode). */
#ifndef CUT_CONFIRM_H
#define CUT_CONFIRM_H

#include <stdbool.h>
#include <uv.h>

struct confirm;

/* yes: the answer started with y or Y. */
typedef void confirm_fn(bool yes, void *arg);

/* Print `question` and wait for a line. NULL if stdin is not a terminal
 * (the callback never runs then). The callback runs once, then the
 * confirm frees itself once its handle is closed. */
struct confirm *confirm_ask(uv_loop_t *loop, const char *question,
			    confirm_fn *cb, void *arg);
/* Stop asking: the callback runs with yes = false. */
void confirm_cancel(struct confirm *c);

#endif
