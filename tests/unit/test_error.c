#include <string.h>

#include "error.h"
#include "log.h"
#include "tap.h"

void suite_error(void)
{
    az_error err;

    az_error_clear(&err);
    CHECK(err.exit_code == 0 && err.message[0] == '\0',
          "error clear empties the record");

    int rc = az_fail(&err, AZ_EXIT_SECRET, "not_found", 404,
                     "variable '%s' not found", "db/pw");
    CHECK(rc == -1, "az_fail returns -1");
    CHECK(err.exit_code == 6 && err.status == 404 &&
              strcmp(err.code, "not_found") == 0,
          "az_fail records exit code, status and word");
    CHECK(strcmp(err.message, "variable 'db/pw' not found") == 0,
          "az_fail formats the message");

    az_error_prefix(&err, "reading %s", "batch");
    CHECK(strcmp(err.message, "reading batch: variable 'db/pw' not found") == 0,
          "az_error_prefix puts context in front");

    char long_text[2000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    az_fail(&err, 1, "x", 0, "%s", long_text);
    az_error_prefix(&err, "ctx");
    CHECK(strlen(err.message) == AZ_ERROR_MESSAGE_MAX - 1 &&
              strncmp(err.message, "ctx: ", 5) == 0,
          "az_error_prefix truncates a long message safely");

    /* a registered value cut by the record's size shows no prefix */
    static char body[1200];
    memset(body, 'y', 1000);
    memcpy(body + 1000, "TOPSECRET-0123456789-ABCDEFGHIJ-0123456789", 42);
    body[1042] = '\0';
    az_mask_add(body + 1000, 42);
    az_fail(&err, 7, "bad_response", 500, "conjur said: %s", body);
    CHECK(strstr(err.message, "TOPS") == NULL &&
              strstr(err.message, "yyy*****") != NULL,
          "az_fail masks a value before cutting a long message");

    body[970] = '\0';
    strcat(body, "TOPSECRET-0123456789-ABCDEFGHIJ-0123456789");
    az_fail(&err, 7, "bad_response", 500, "%s", body);
    CHECK(strcmp(err.message, body) == 0,
          "az_fail without a cut leaves masking to the printer");
    az_error_prefix(&err, "reading the batch at /secrets");
    CHECK(strstr(err.message, "TOPS") == NULL &&
              strncmp(err.message, "reading the batch", 17) == 0,
          "az_error_prefix masks a value it cuts");
    az_mask_clear();
}
