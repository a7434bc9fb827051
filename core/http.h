/*
 * http.h - the HTTP layer every step uses (libcurl underneath).
 *
 * It owns: connection reuse (one handle per client keeps its connection
 * alive), TLS verification (always on; CA file or inline PEM replace the
 * system roots), protocol and proxy rules, per-request timeouts, response
 * size limits, header capture, failure classification and the redacted
 * debug log.  Retry policy belongs to the callers, which know which
 * statuses are worth another try; this file gives them the clock, the
 * back-off and the sleep.
 */
#ifndef AZ_HTTP_H
#define AZ_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Why a request produced no HTTP status. */
enum az_http_failure {
    AZ_HTTP_OK = 0,    /* a status line arrived (any status) */
    AZ_HTTP_CONNECT,   /* DNS, refused, unreachable */
    AZ_HTTP_TIMEOUT,   /* connect or transfer took too long */
    AZ_HTTP_TLS,       /* handshake or verification failed */
    AZ_HTTP_TOO_LARGE, /* the body passed the client's limit */
    AZ_HTTP_TRUNCATED, /* the connection ended before the body did */
    AZ_HTTP_PROTOCOL,  /* anything else curl refused */
};

typedef struct az_http_options {
    int plain_http_ok;   /* allow http:// (identity endpoints, loopback) */
    int no_proxy;        /* never use a proxy, even from the environment */
    const char *ca_file; /* CA bundle replacing the system roots, or NULL */
    const char *ca_pem;  /* inline PEM replacing the system roots, or NULL */
    long timeout_ms;     /* one request, connect included */
    size_t max_body;     /* larger bodies fail with AZ_HTTP_TOO_LARGE */
    int exit_code;       /* exit code for transport failures */
} az_http_options;

typedef struct az_http az_http;

typedef struct az_http_request {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *const *headers; /* "Name: value", NULL-terminated, or NULL */
    const void *body;           /* POST body (not copied), or NULL */
    size_t body_len;
    const char *what; /* for messages: "the IMDS token endpoint" */
    long timeout_ms;  /* 0: the client's; else min of both */
    /*
     * Time allowed for the TCP connect alone; 0: the request's timeout.
     * Link-local endpoints (IMDS) use a short one so that a host without
     * them fails fast instead of waiting out the whole request timeout.
     */
    long connect_timeout_ms;
} az_http_request;

typedef struct az_http_response {
    long status; /* 0 when no status line arrived */
    enum az_http_failure failure;
    az_buf body; /* wiped when freed */
    char content_type[128];
    char content_encoding[64];
    char www_authenticate[1024];
    long retry_after_s;     /* -1 when absent or unparsable */
    long connection_reused; /* 1 when the request used a kept connection */
} az_http_response;

/* A client owns one curl handle; NULL with err filled on failure. */
az_http *az_http_new(const az_http_options *opts, az_error *err);
void az_http_free(az_http *h);

/* Mark a header as sensitive so debug logs show its name only. */
int az_http_header_is_sensitive(const char *header_line);

/*
 * Perform one request.  Returns 0 when a status line arrived (whatever the
 * status: callers judge it), -1 on transport failure with resp->failure
 * and err set (err->exit_code from the options, code "network" or "tls").
 * The caller frees the response with az_http_response_free().
 */
int az_http_perform(az_http *h, const az_http_request *req,
                    az_http_response *resp, az_error *err);
void az_http_response_free(az_http_response *resp);

/* Short text for a failure kind: "connection failed", "timed out", ... */
const char *az_http_failure_text(enum az_http_failure f);

/* ---- clock, back-off and sleeping -------------------------------------- */

/* Milliseconds on the monotonic clock. */
int64_t az_monotonic_ms(void);

/*
 * Scale applied to every retry delay.  1.0 normally; tests set
 * AZCONJUR_RETRY_SCALE (e.g. 0.01) so that back-off schedules run fast.
 */
double az_retry_scale(void);

/*
 * Delay before retry number `attempt` (1-based): base * 2^(attempt-1),
 * capped, with +-25% jitter, times the retry scale.
 */
long az_backoff_ms(int attempt, long base_ms, long cap_ms);

/* Sleep ms milliseconds (resuming after signals). */
void az_sleep_ms(long ms);

/* ---- URLs ---------------------------------------------------------------- */

/*
 * Append s percent-encoded as one path segment or query value: every byte
 * but RFC 3986 unreserved ones (A-Z a-z 0-9 - . _ ~).  -1 on memory error.
 */
int az_url_encode(az_buf *out, const char *s, size_t len);

/* 1 when the URL's host is loopback: localhost, 127.0.0.0/8 or [::1]. */
int az_url_host_is_loopback(const char *url);

#endif
