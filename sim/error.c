#include "apical/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *msg;
    int exit_code;
} error_table[] = {
#define APICAL_X_TABLE(name, msg, exitc) {msg, exitc},
    APICAL_ERRNO_MAP(APICAL_X_TABLE)
#undef APICAL_X_TABLE
};

const char *apical_strerror(apical_status code)
{
    if ((int)code < 0 || code >= APICAL_E__COUNT)
        return "unknown error";
    return error_table[code].msg;
}

int apical_exit_code(apical_status code)
{
    if ((int)code < 0 || code >= APICAL_E__COUNT)
        return 1;
    return error_table[code].exit_code;
}

apical_status apical_error_set(apical_error *err, apical_status code,
                               const apical_srcpos *pos, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->file[0] = '\0';
    err->pos = (apical_srcpos){NULL, 0, 0};
    if (pos) {
        err->pos = *pos;
        if (pos->file) {
            snprintf(err->file, sizeof err->file, "%s", pos->file);
            err->pos.file = err->file;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void apical_error_format(const apical_error *err, char *buf, size_t n)
{
    if (err->pos.file && err->pos.line > 0)
        snprintf(buf, n, "%s:%d:%d: error: %s", err->pos.file, err->pos.line,
                 err->pos.col, err->msg);
    else if (err->pos.file)
        snprintf(buf, n, "%s: error: %s", err->pos.file, err->msg);
    else
        snprintf(buf, n, "apical: error: %s", err->msg);
}
