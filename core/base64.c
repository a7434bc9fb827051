/*
 * base64.c - encoder and forgiving-but-strict decoder.
 *
 * "Forgiving" in what it accepts (both alphabets, whitespace, missing
 * padding); "strict" in that anything else is an error, never skipped.
 */
#include "base64.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t az_b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

void az_b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i = 0, o = 0;

    for (; i + 2 < n; i += 3) {
        unsigned v =
            (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = std_alphabet[v >> 18 & 63];
        out[o++] = std_alphabet[v >> 12 & 63];
        out[o++] = std_alphabet[v >> 6 & 63];
        out[o++] = std_alphabet[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        out[o++] = std_alphabet[v >> 18 & 63];
        out[o++] = std_alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? std_alphabet[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
}

/* Value of one alphabet character, -1 for anything else. */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

long az_b64_decode(const char *in, size_t n, unsigned char *out, size_t *bad)
{
    unsigned acc = 0;
    int held = 0; /* sextets in acc */
    size_t o = 0;
    size_t pad = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (is_space(c))
            continue;
        if (c == '=') {
            pad++;
            if (held < 2 || held + pad > 4) {
                *bad = i;
                return -1;
            }
            continue;
        }
        int v = sextet(c);
        if (v < 0 || pad) {
            *bad = i;
            return -1;
        }
        acc = acc << 6 | (unsigned)v;
        if (++held == 4) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
            held = 0;
        }
    }

    if (held == 1) {
        *bad = n;
        return -1;
    }
    if (held == 2) {
        out[o++] = (unsigned char)(acc >> 4);
    } else if (held == 3) {
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    return (long)o;
}
