/*
 * http.c - libcurl with our rules: verification on, limits everywhere,
 * sensitive headers never logged, buffers wiped.
 *
 * Caveats:
 *  - libcurl builds each request in its own buffers, which it frees
 *    without wiping; a token in a header may therefore outlive the request
 *    in freed heap memory.  Our own copies (header lists, bodies) are
 *    wiped.
 *  - Content decoding is off: Conjur labels base64 bodies with
 *    "Content-Encoding: base64", which libcurl would otherwise refuse.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "http.h"
#include "log.h"

struct az_http {
    CURL *curl;
    az_http_options opts;
    char errbuf[CURL_ERROR_SIZE];
};

/* Headers whose values are never logged, compared case-insensitively. */
static const char *const sensitive_headers[] = {
    "authorization", "x-identity-header", "secret", "cookie", NULL,
};

int az_http_header_is_sensitive(const char *line)
{
    const char *colon = strchr(line, ':');
    size_t n = colon ? (size_t)(colon - line) : strlen(line);

    for (const char *const *h = sensitive_headers; *h; h++) {
        if (strlen(*h) == n && strncasecmp(line, *h, n) == 0)
            return 1;
    }
    return 0;
}

az_http *az_http_new(const az_http_options *opts, az_error *err)
{
    az_http *h = calloc(1, sizeof *h);
    if (!h) {
        az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");
        return NULL;
    }

    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        az_fail(err, AZ_EXIT_RUNTIME, "runtime", 0,
                "cannot create a curl handle");
        return NULL;
    }
    h->opts = *opts;
    if (h->opts.timeout_ms <= 0)
        h->opts.timeout_ms = 30000;
    if (h->opts.max_body == 0)
        h->opts.max_body = 1 << 20;
    return h;
}

void az_http_free(az_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

void az_http_response_free(az_http_response *resp)
{
    az_buf_free(&resp->body);
}

/* ---- callbacks ------------------------------------------------------------
 */

typedef struct transfer {
    az_http_response *resp;
    size_t max_body;
    int too_large;
} transfer;

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    transfer *t = ud;
    size_t len = size * n;

    if (t->resp->body.len + len > t->max_body) {
        t->too_large = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (az_buf_append(&t->resp->body, data, len) < 0)
        return 0;
    return len;
}

/* Copy a header value, trimmed, into dst (always terminated). */
static void copy_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len && isspace((unsigned char)*v))
        v++, len--;
    while (len && isspace((unsigned char)v[len - 1]))
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static int header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

static long parse_retry_after(const char *v)
{
    char *end;
    errno = 0;
    long s = strtol(v, &end, 10);
    if (errno || end == v || *end || s < 0)
        return -1; /* an HTTP date is possible but no endpoint sends one */
    return s;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    az_http_response *r = ((transfer *)ud)->resp;
    size_t len = size * n;

    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (after 100-continue, say): forget the last one */
        r->content_type[0] = r->content_encoding[0] = '\0';
        r->www_authenticate[0] = '\0';
        r->retry_after_s = -1;
    } else if (header_is(line, len, "content-type")) {
        copy_value(r->content_type, sizeof r->content_type, line + 13,
                   len - 13);
    } else if (header_is(line, len, "content-encoding")) {
        copy_value(r->content_encoding, sizeof r->content_encoding, line + 17,
                   len - 17);
    } else if (header_is(line, len, "www-authenticate")) {
        copy_value(r->www_authenticate, sizeof r->www_authenticate, line + 17,
                   len - 17);
    } else if (header_is(line, len, "retry-after")) {
        char v[32];
        copy_value(v, sizeof v, line + 12, len - 12);
        r->retry_after_s = parse_retry_after(v);
    }
    return len;
}

/* ---- request set-up --------------------------------------------------------
 */

/* Wipe the copies curl made of our header lines, then free them. */
static void free_header_list(struct curl_slist *list)
{
    for (struct curl_slist *s = list; s; s = s->next)
        OPENSSL_cleanse(s->data, strlen(s->data));
    curl_slist_free_all(list);
}

static struct curl_slist *build_header_list(const char *const *headers)
{
    /* curl adds "Expect: 100-continue" to POSTs otherwise: one more trip */
    struct curl_slist *list = curl_slist_append(NULL, "Expect:");

    for (const char *const *h = headers; list && h && *h; h++) {
        struct curl_slist *grown = curl_slist_append(list, *h);
        if (!grown) {
            free_header_list(list);
            return NULL;
        }
        list = grown;
    }
    return list;
}

static void log_request_headers(const char *const *headers)
{
    for (const char *const *h = headers; h && *h; h++) {
        if (az_http_header_is_sensitive(*h)) {
            const char *colon = strchr(*h, ':');
            int n = colon ? (int)(colon - *h) : (int)strlen(*h);
            az_debug("  %.*s: (redacted)", n, *h);
        } else {
            az_debug("  %s", *h);
        }
    }
}

static void apply_tls_options(az_http *h)
{
    CURL *c = h->curl;

    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);

    if (h->opts.ca_pem) {
        struct curl_blob blob = {(void *)h->opts.ca_pem, strlen(h->opts.ca_pem),
                                 CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    } else if (h->opts.ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, h->opts.ca_file);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    }
}

/*
 * Connections are close-on-exec: a command started by exec or
 * deliver.exec must not inherit our sockets to Conjur and the identity
 * endpoint for the rest of its life.
 */
static int on_socket(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    (void)ud;
    (void)purpose;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return CURL_SOCKOPT_ERROR;
    return CURL_SOCKOPT_OK;
}

static void apply_options(az_http *h, const az_http_request *req, transfer *t,
                          struct curl_slist *headers)
{
    CURL *c = h->curl;
    long timeout = h->opts.timeout_ms;

    if (req->timeout_ms > 0 && req->timeout_ms < timeout)
        timeout = req->timeout_ms;

    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                     h->opts.plain_http_ok ? "http,https" : "https");
    long connect = timeout;
    if (req->connect_timeout_ms > 0 && req->connect_timeout_ms < connect)
        connect = req->connect_timeout_ms;

    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)h->opts.max_body);
    curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    /* our bodies are small: 16 KiB instead of the 64 KiB default */
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "azconjur/" AZCONJUR_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, on_socket);
    if (h->opts.no_proxy) {
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    }
    apply_tls_options(h);

    if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
}

/* ---- failure reporting -----------------------------------------------------
 */

const char *az_http_failure_text(enum az_http_failure f)
{
    switch (f) {
    case AZ_HTTP_OK:
        return "ok";
    case AZ_HTTP_CONNECT:
        return "connection failed";
    case AZ_HTTP_TIMEOUT:
        return "timed out";
    case AZ_HTTP_TLS:
        return "TLS failure";
    case AZ_HTTP_TOO_LARGE:
        return "response too large";
    case AZ_HTTP_TRUNCATED:
        return "response cut short";
    case AZ_HTTP_PROTOCOL:
        break;
    }
    return "protocol error";
}

static enum az_http_failure classify(CURLcode rc, const transfer *t)
{
    if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return AZ_HTTP_TOO_LARGE;

    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return AZ_HTTP_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return AZ_HTTP_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
        return AZ_HTTP_TLS;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return AZ_HTTP_TRUNCATED;
    default:
        return AZ_HTTP_PROTOCOL;
    }
}

/* A hint that tells the operator what to do about a TLS failure. */
static const char *tls_hint(const char *detail)
{
    if (strstr(detail, "expired"))
        return "the server's certificate has expired; renew it";
    if (strstr(detail, "subject name") || strstr(detail, "does not match"))
        return "the certificate does not name this host; use the host name "
               "the certificate was issued for in CONJUR_APPLIANCE_URL";
    if (strstr(detail, "self-signed") ||
        strstr(detail, "unable to get local issuer") ||
        strstr(detail, "self signed"))
        return "the server's CA is not trusted; point CONJUR_CERT_FILE at the "
               "CA bundle that issued Conjur's certificate";
    if (strstr(detail, "CA file") ||
        strstr(detail, "error setting certificate"))
        return "the CA bundle could not be read; check CONJUR_CERT_FILE or "
               "CONJUR_SSL_CERTIFICATE";
    return "check the server certificate and CONJUR_CERT_FILE";
}

/*
 * The proxy variable libcurl may have used for url, or NULL.  libcurl
 * 7.88 cannot say whether a transfer went through a proxy, so this names
 * the variable that applies to the scheme and lets NO_PROXY be checked by
 * the reader.
 */
static const char *proxy_variable(const az_http *h, const char *url)
{
    static const char *const https_vars[] = {"https_proxy", "HTTPS_PROXY",
                                             "all_proxy", "ALL_PROXY", NULL};
    static const char *const http_vars[] = {"http_proxy", "all_proxy",
                                            "ALL_PROXY", NULL};

    if (h->opts.no_proxy)
        return NULL;
    const char *const *vars =
        strncmp(url, "https:", 6) == 0 ? https_vars : http_vars;
    for (; *vars; vars++) {
        const char *v = getenv(*vars);
        if (v && *v)
            return *vars;
    }
    return NULL;
}

/* "; HTTPS_PROXY is set: ..." when a proxy may be the one that failed. */
static const char *proxy_note(const az_http *h, const char *url)
{
    static char note[160];
    const char *var = proxy_variable(h, url);

    if (!var)
        return "";
    snprintf(note, sizeof note,
             "; %s is set, so the request may have gone through that proxy: "
             "check it, or list the host in NO_PROXY",
             var);
    return note;
}

static int report_failure(az_http *h, const az_http_request *req,
                          az_http_response *resp, CURLcode rc, az_error *err)
{
    const char *detail = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);

    if (resp->failure == AZ_HTTP_TLS)
        return az_fail(err, h->opts.exit_code, "tls", 0,
                       "TLS verification failed for %s (%s): %s; %s", req->what,
                       req->url, detail, tls_hint(detail));
    if (resp->failure == AZ_HTTP_TOO_LARGE)
        return az_fail(err, h->opts.exit_code, "network", 0,
                       "%s (%s) sent a response larger than %zu bytes",
                       req->what, req->url, h->opts.max_body);
    return az_fail(err, h->opts.exit_code, "network", 0, "%s (%s): %s: %s%s",
                   req->what, req->url, az_http_failure_text(resp->failure),
                   detail, proxy_note(h, req->url));
}

/* ---- perform ------------------------------------------------------------- */

int az_http_perform(az_http *h, const az_http_request *req,
                    az_http_response *resp, az_error *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    h->errbuf[0] = '\0';

    struct curl_slist *headers = build_header_list(req->headers);
    if (!headers)
        return az_fail(err, AZ_EXIT_RUNTIME, "memory", 0, "out of memory");

    transfer t = {resp, h->opts.max_body, 0};
    apply_options(h, req, &t, headers);

    az_debug("%s %s", req->method, req->url);
    log_request_headers(req->headers);
    int64_t started = az_monotonic_ms();

    CURLcode rc = curl_easy_perform(h->curl);
    free_header_list(headers);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);

    if (rc != CURLE_OK) {
        resp->failure = classify(rc, &t);
        az_buf_free(&resp->body);
        return report_failure(h, req, resp, rc, err);
    }

    long reused = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &reused);
    resp->connection_reused = reused == 0;
    az_debug("%s %s -> %ld (%zu bytes, %lld ms%s)", req->method, req->url,
             resp->status, resp->body.len,
             (long long)(az_monotonic_ms() - started),
             resp->connection_reused ? ", reused connection" : "");
    return 0;
}

/* ---- clock ------------------------------------------------------------- */

int64_t az_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double az_retry_scale(void)
{
    static double scale = -1;

    if (scale < 0) {
        const char *v = getenv("AZCONJUR_RETRY_SCALE");
        char *end;
        scale = v ? strtod(v, &end) : 1.0;
        if (!v || end == v || *end || scale < 0 || scale > 1)
            scale = 1.0;
    }
    return scale;
}

long az_backoff_ms(int attempt, long base_ms, long cap_ms)
{
    long delay = base_ms;
    for (int i = 1; i < attempt && delay < cap_ms; i++)
        delay *= 2;
    if (delay > cap_ms)
        delay = cap_ms;

    unsigned short r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = 32768;
    double jitter = 0.75 + 0.5 * (double)r / 65535.0; /* 0.75 .. 1.25 */
    return (long)((double)delay * jitter * az_retry_scale());
}

void az_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- URLs ---------------------------------------------------------------- */

int az_url_encode(az_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            if (az_buf_append(out, &s[i], 1) < 0)
                return -1;
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (az_buf_append(out, esc, 3) < 0)
                return -1;
        }
    }
    return 0;
}

int az_url_host_is_loopback(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    p += 3;

    const char *at = strpbrk(p, "@/");
    if (at && *at == '@')
        p = at + 1;

    if (strncmp(p, "[::1]", 5) == 0)
        return p[5] == '\0' || p[5] == ':' || p[5] == '/';

    size_t n = strcspn(p, ":/?#");
    if (n == 9 && strncasecmp(p, "localhost", 9) == 0)
        return 1;
    if (n >= 7 && strncmp(p, "127.", 4) == 0) {
        for (size_t i = 4; i < n; i++) {
            if (!isdigit((unsigned char)p[i]) && p[i] != '.')
                return 0;
        }
        return 1;
    }
    return 0;
}
