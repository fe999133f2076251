// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd_mevents - vmfit-ctl events --manager: follow a running vmfitd's own
 * events (recovery rounds: every phase, the end, an abort, a catch-up)
 * through its control socket's "events" subscription (vmfitd(8) "Control
 * socket"). The lines are printed as vmfitd sends them, or with --json
 * as one JSON document each.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "ctl_json.h"
#include "vf_conf.h"
#include "vf_ctlsock.h"

/* Digits only, short enough for a u64: printed as a JSON number. */
static bool is_number(const char *v, uint64_t *out)
{
	size_t n = strspn(v, "0123456789");

	if (!n || v[n] || n > 19)
		return false;
	*out = strtoull(v, NULL, 10);
	return true;
}

/*
 * "<event> key=value ... [text=<rest of the line>]" as {"source":
 * "vmfitd", "event": ..., key: value, ...}; round ids stay strings.
 */
static void print_json(char *line)
{
	char *p = line, *sp, *eq;
	struct ctl_json j;
	uint64_t n;

	ctl_json_init(&j, stdout);
	ctl_json_obj_begin(&j, NULL);
	ctl_json_str(&j, "source", "vmfitd");
	sp = strchr(p, ' ');
	if (sp)
		*sp = '\0';
	ctl_json_str(&j, "event", p);
	p = sp ? sp + 1 : NULL;
	while (p && *p) {
		eq = strchr(p, '=');
		if (!eq)
			break;
		*eq = '\0';
		if (!strcmp(p, "text")) {
			ctl_json_str(&j, p, eq + 1);
			break;
		}
		sp = strchr(eq + 1, ' ');
		if (sp)
			*sp = '\0';
		if (strcmp(p, "round") && is_number(eq + 1, &n))
			ctl_json_u64(&j, p, n);
		else
			ctl_json_str(&j, p, eq + 1);
		p = sp ? sp + 1 : NULL;
	}
	ctl_json_obj_end(&j);
	ctl_json_end(&j);
}

int manager_events(struct ctl *c, const struct command *cmd,
		   const char *path, uint64_t count, uint64_t timeout)
{
	char err[512], line[1024];
	struct vf_ctlsub sub;
	struct vf_conf conf;
	struct events_wait w;
	int r;

	vf_conf_defaults(&conf);
	if (vf_conf_load(&conf, path, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s: %s\n", cmd->name, err);
		return EXIT_FAILURE;
	}
	r = vf_ctlsub_open(&sub, conf.control_socket, 5000, err, sizeof(err));
	if (r == -EPROTO || r == -ETIMEDOUT || r == -EPIPE) {
		fprintf(stderr, PROG ": %s: vmfitd says: %s\n", cmd->name,
			err);
		return EXIT_FAILURE;
	}
	if (r)
		return fail(c, cmd, conf.control_socket, r,
			    "is vmfitd running with %s?", path);
	events_listen(&w, count, timeout);
	r = EXIT_SUCCESS;
	while (events_more(c, cmd, &w, &r)) {
		r = vf_ctlsub_next(&sub, line, sizeof(line), 500);
		if (r == -ETIMEDOUT || r == -EINTR) {
			r = EXIT_SUCCESS;
			continue;
		}
		if (r) {
			r = fail(c, cmd, "events", r,
				 "vmfitd closed the subscription (it stopped, or this reader was too slow)");
			break;
		}
		if (c->json)
			print_json(line);
		else
			printf("%s\n", line);
		fflush(stdout);
		w.seen++;
	}
	vf_ctlsub_close(&sub);
	return r;
}
