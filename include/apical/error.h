/* Error codes and error records with source positions.
 *
 * Library code never exits: every fallible call returns an apical_status and,
 * when given a non-NULL apical_error *, fills it with a message that names the
 * place in the network file the problem comes from (file:line:col). Only the
 * command-line front end decides to print and exit. */
#ifndef APICAL_ERROR_H
#define APICAL_ERROR_H

#include <stddef.h>

/* One list, one place: code, message. Exit code class in the third column:
 * 2 = bad input (the user can fix the file or the command line),
 * 1 = runtime failure. */
#define APICAL_ERRNO_MAP(X)                                                  \
    X(OK, "success", 0)                                                      \
    X(NOMEM, "out of memory", 1)                                             \
    X(INVALID, "invalid argument", 2)                                        \
    X(IO, "cannot read or write a file", 2)                                  \
    X(SYNTAX, "malformed YAML", 2)                                           \
    X(UNKNOWN_KEY, "unknown key", 2)                                         \
    X(MISSING_KEY, "missing required key", 2)                                \
    X(TYPE, "wrong value type", 2)                                           \
    X(UNKNOWN_MODEL, "unknown model", 2)                                     \
    X(UNKNOWN_NAME, "unknown name", 2)                                       \
    X(UNIT, "wrong or missing unit", 2)                                      \
    X(RANGE, "value out of range", 2)                                        \
    X(REFERENCE, "reference to an undefined object", 2)                      \
    X(HDF5, "HDF5 error", 1)                                                 \
    X(SOLVER, "ODE solver failure", 1)                                       \
    X(DATA, "corrupt data", 2)                                               \
    X(TOO_LARGE, "network too large for the memory available", 2)             \
    X(INTERRUPTED, "interrupted", 1)                                         \
    X(COMM, "communication between ranks failed", 1)

typedef enum apical_status {
#define APICAL_X_ENUM(name, msg, exitc) APICAL_E_##name,
    APICAL_ERRNO_MAP(APICAL_X_ENUM)
#undef APICAL_X_ENUM
    APICAL_E__COUNT
} apical_status;

#define APICAL_OK APICAL_E_OK

/* A position in a source file; file may be NULL when there is none. Lines and
 * columns are 1-based; 0 means unknown. The file string is not owned. */
typedef struct apical_srcpos {
    const char *file;
    int line;
    int col;
} apical_srcpos;

typedef struct apical_error {
    apical_status code;
    apical_srcpos pos;
    char file[512]; /* copy of pos.file, so the record outlives the spec */
    char msg[1024];
} apical_error;

/* Short fixed description of a code ("unknown model"). Never NULL. */
const char *apical_strerror(apical_status code);

/* Process exit code for a status: 0 ok, 2 bad input, 1 runtime failure. */
int apical_exit_code(apical_status code);

/* Fill err (if non-NULL) and return code. pos may be NULL. */
apical_status apical_error_set(apical_error *err, apical_status code,
                               const apical_srcpos *pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* "file:line:col: error: msg" (or "apical: error: msg" without position). */
void apical_error_format(const apical_error *err, char *buf, size_t n);

#endif
