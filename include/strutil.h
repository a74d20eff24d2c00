/* strutil.h - small, strict parsers for values typed by operators:
 * durations ("250ms", "30s", "5m", "1h30m"), integers, and weights
 * ("50", "50%"). They reject anything they do not fully consume.
 */
#ifndef CUT_STRUTIL_H
#define CUT_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse a duration into milliseconds. A bare number means seconds.
 * Units: ms, s, m, h, d; several may follow each other ("1h30m").
 * Returns 0 or CUT_EUSAGE. */
int str_parse_duration_ms(const char *s, uint64_t *out_ms);

/* Parse a decimal integer in [min, max]. Returns 0 or CUT_EUSAGE. */
int str_parse_long(const char *s, long min, long max, long *out);

/* Parse "N" (0..256) or "N%" (0..100). Returns 0 or CUT_EUSAGE. */
int str_parse_weight(const char *s, int *value, bool *percent);

/* Format milliseconds for people: "850ms", "12.3s", "4m05s", "2h03m". */
void str_format_duration(uint64_t ms, char *out, size_t outsz);

/* Copy with truncation; always NUL-terminates; returns false if truncated. */
bool str_copy(char *dst, size_t dstsz, const char *src, size_t srclen);

#endif
