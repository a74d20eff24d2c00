/* strutil.c - strict operator-value parsers (see strutil.h). */
#include "strutil.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int str_parse_duration_ms(const char *s, uint64_t *out_ms)
{
	uint64_t total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return CUT_EUSAGE;
	while (*p != '\0') {
		uint64_t n = 0, mult;
		const char *start = p;

		while (isdigit((unsigned char)*p)) {
			if (n > UINT64_MAX / 10 - 10)
				return CUT_EUSAGE;
			n = n * 10 + (uint64_t)(*p - '0');
			p++;
		}
		if (p == start)
			return CUT_EUSAGE;
		if (strncmp(p, "ms", 2) == 0) {
			mult = 1;
			p += 2;
		} else if (*p == 's') {
			mult = 1000;
			p++;
		} else if (*p == 'm') {
			mult = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			mult = 3600 * 1000;
			p++;
		} else if (*p == 'd') {
			mult = 86400 * 1000;
			p++;
		} else if (*p == '\0' && start == s) {
			mult = 1000;	/* bare number: seconds */
		} else {
			return CUT_EUSAGE;
		}
		if (n > (UINT64_MAX - total) / mult)
			return CUT_EUSAGE;
		total += n * mult;
	}
	*out_ms = total;
	return 0;
}

int str_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return CUT_EUSAGE;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return CUT_EUSAGE;
	*out = v;
	return 0;
}

int str_parse_weight(const char *s, int *value, bool *percent)
{
	char tmp[16];
	size_t n;
	long v;

	if (s == NULL)
		return CUT_EUSAGE;
	n = strlen(s);
	if (n == 0 || n >= sizeof(tmp))
		return CUT_EUSAGE;
	memcpy(tmp, s, n + 1);
	*percent = false;
	if (tmp[n - 1] == '%') {
		tmp[n - 1] = '\0';
		*percent = true;
	}
	if (str_parse_long(tmp, 0, *percent ? 100 : 256, &v) != 0)
		return CUT_EUSAGE;
	*value = (int)v;
	return 0;
}

void str_format_duration(uint64_t ms, char *out, size_t outsz)
{
	if (ms < 1000)
		snprintf(out, outsz, "%" PRIu64 "ms", ms);
	else if (ms < 60 * 1000)
		snprintf(out, outsz, "%" PRIu64 ".%" PRIu64 "s", ms / 1000,
			 (ms % 1000) / 100);
	else if (ms < 3600 * 1000)
		snprintf(out, outsz, "%" PRIu64 "m%02" PRIu64 "s",
			 ms / 60000, (ms / 1000) % 60);
	else
		snprintf(out, outsz, "%" PRIu64 "h%02" PRIu64 "m",
			 ms / 3600000, (ms / 60000) % 60);
}

bool str_copy(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	size_t n = srclen < dstsz - 1 ? srclen : dstsz - 1;

	memcpy(dst, src, n);
	dst[n] = '\0';
	return n == srclen;
}
