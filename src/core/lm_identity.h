/*
 * lm_identity.h
 *     Chinese identity numbers checked against their national standards.
 *
 * Pure C (no PostgreSQL headers): the SQL glue in src/identity.c and the unit tests and
 * fuzzer under test/core call the same code.
 */
#ifndef LM_IDENTITY_H
#define LM_IDENTITY_H

#include <stddef.h>

typedef enum LmIdResult
{
	LM_ID_OK = 0,
	LM_ID_NOT_ASCII,			/* a byte outside printable ASCII */
	LM_ID_BAD_LENGTH,			/* not exactly 18 characters */
	LM_ID_BAD_CHAR,				/* a character not allowed at its position */
	LM_ID_BAD_DATE,				/* cn_id: birth date is not a real date (or before 1900) */
	LM_ID_BAD_CHECK				/* the check character does not match */
} LmIdResult;

/*
 * Both checkers take raw bytes (not NUL-terminated), are case-insensitive on letters, and
 * never read outside [s, s + len). On LM_ID_BAD_CHAR *position is the 1-based position of
 * the first offending character; on LM_ID_BAD_CHECK *expected is the check character the
 * first 17 characters call for. Either pointer may be NULL.
 */
extern LmIdResult lm_check_uscc(const char *s, size_t len, int *position, char *expected);
extern LmIdResult lm_check_cn_id(const char *s, size_t len, int *position, char *expected);

/* Birth date of a cn_id already accepted by lm_check_cn_id. */
extern void lm_cn_id_birth_date(const char *s, int *year, int *month, int *day);

#endif							/* LM_IDENTITY_H */
