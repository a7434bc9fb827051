/*
 * tap.h - the smallest test harness that does the job: one TAP line per
 * check, so tests/run can count them with every other suite.
 */
#ifndef AZ_TAP_H
#define AZ_TAP_H

#include <stddef.h>

void tap_check(int ok, const char *name, const char *file, int line,
               const char *expr);

#define CHECK(cond, name) tap_check(!!(cond), (name), __FILE__, __LINE__, #cond)

/* Suites, one per file. */
void suite_azure_time(void);
void suite_base64(void);
void suite_buf(void);
void suite_config(void);
void suite_error(void);
void suite_harden(void);
void suite_http(void);
void suite_jwt(void);
void suite_log(void);
void suite_runtime(void);
void suite_utf8(void);

#endif
