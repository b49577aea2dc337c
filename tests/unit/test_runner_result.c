/*
 * test_runner_result.c: --result's JSON (src/runner_result.c): every field
 * there with the run's values, causes with quotes, backslashes and control
 * characters escaped, and the whole object read back by jq(1), a JSON
 * parser from Debian, as the program that started ringvm would read it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"
#include "runner_result.h"
#include "unit.h"

static struct unit u = { .file = "runner_result" };

/* jq_says: `filter` over `json` prints exactly `want` (jq -c, one line). */
static int jq_says(const char *json, const char *filter, const char *want)
{
	char path[] = "/tmp/ringvm-result-XXXXXX", cmd[512], got[512] = "";
	int fd = mkstemp(path);
	FILE *p;

	if (fd < 0 || write(fd, json, strlen(json)) != (ssize_t)strlen(json))
		return 0;
	close(fd);
	snprintf(cmd, sizeof(cmd), "jq -c '%s' %s 2>&1", filter, path);
	p = popen(cmd, "r");
	if (p) {
		if (!fgets(got, sizeof(got), p))
			got[0] = '\0';
		pclose(p);
	}
	unlink(path);
	got[strcspn(got, "\n")] = '\0';
	if (strcmp(got, want)) {
		printf("#   jq '%s': '%s', want '%s'\n", filter, got, want);
		return 0;
	}
	return 1;
}

int main(void)
{
	static struct runner r;
	char json[1024];

	if (system("jq --version > /dev/null 2>&1")) {
		UNIT_OK(&u, 0, "jq is installed (scripts/install-deps.sh installs it)");
		return unit_done(&u);
	}
	memset(&r, 0, sizeof(r));
	r.status = 7;
	r.out[0].bytes = 3;
	r.out[1].bytes = 65536;
	r.hello = true;
	r.t_start = 0;
	r.t_hello = 1.25;
	UNIT_OK(&u, runner_result_json(&r, json, sizeof(json)) > 0 &&
	    jq_says(json, "[.status,.signal,.cause,.timed_out,.stdout_bytes,.stderr_bytes,"
	    ".truncated,.boot_to_agent_s]", "[7,0,null,false,3,65536,false,1.25]"),
	    "a plain run: every field, read back by jq");
	UNIT_OK(&u, jq_says(json, ".wall_s | type", "\"number\""), "wall_s is a number");
	r.status = 125;
	r.hello = false;
	snprintf(r.cause, sizeof(r.cause), "a \"quoted\" \\ cause\twith\ncontrol\x01 bytes");
	UNIT_OK(&u, runner_result_json(&r, json, sizeof(json)) > 0 &&
	    jq_says(json, ".cause", "\"a \\\"quoted\\\" \\\\ cause\\twith\\ncontrol\\u0001 bytes\"") &&
	    jq_says(json, ".boot_to_agent_s", "null"),
	    "a cause with quotes, backslash and control characters: escaped, read back whole");
	r.status = 124;
	r.timed_out = r.truncated = true;
	r.signal = 9;
	UNIT_OK(&u, runner_result_json(&r, json, sizeof(json)) > 0 &&
	    jq_says(json, "[.status,.signal,.timed_out,.truncated]", "[124,9,true,true]"),
	    "timed out, truncated, a signal");
	UNIT_OK(&u, runner_result_json(&r, json, 16) == -ENOSPC, "a buffer too small: -ENOSPC");
	return unit_done(&u);
}
