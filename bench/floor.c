/*
 * floor.c - the start-up floor of DESIGN §8: a bare C program that links
 * what azconjur links (Lua, libcurl, OpenSSL), initialises it and exits.
 * azconjur's own start-up and memory are measured against this.
 */
#include <stdio.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <openssl/ssl.h>

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    OPENSSL_init_ssl(0, NULL);

    CURL *curl = curl_easy_init();
    lua_State *L = luaL_newstate();
    if (!curl || !L)
        return 1;
    luaL_openlibs(L);

    fputs("ready\n", stdout);

    lua_close(L);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return 0;
}
