/*
 * floor.c - the start-up floor of DESIGN §8: a bare C program that links
 * what azconjur links (Lua, libcurl, OpenSSL), initialises it and exits.
 * azconjur's own start-up and memory are measured against this.
 *
 * usage: floor [URL CAFILE]
 * With a URL it also makes one HTTPS GET verified against CAFILE, the
 * least any Conjur client must do; bench.py reports memory against both.
 */
#include <stdio.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <openssl/ssl.h>

static size_t discard(char *data, size_t size, size_t n, void *ud)
{
    (void)data, (void)ud;
    return size * n;
}

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    OPENSSL_init_ssl(0, NULL);

    CURL *curl = curl_easy_init();
    lua_State *L = luaL_newstate();
    if (!curl || !L)
        return 1;
    luaL_openlibs(L);

    if (argc == 3) {
        curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
        curl_easy_setopt(curl, CURLOPT_CAINFO, argv[2]);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        if (curl_easy_perform(curl) != CURLE_OK)
            return 1;
    }

    fputs("ready\n", stdout);

    lua_close(L);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return 0;
}
