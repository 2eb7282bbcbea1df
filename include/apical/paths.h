/* Output paths: what apical may create or replace.
 *
 * An output is checked before anything is simulated, so a bad path costs
 * nothing but the message: its directory must exist and be writable, and
 * it must not be a directory, not one of the files the run reads (compared
 * by device and inode, so another name for the same file is caught), and,
 * for a file that is written as NAME.part and renamed over NAME, not a
 * device, FIFO or socket (renaming over /dev/null as root replaces the
 * device for every process on the machine). */
#ifndef APICAL_PATHS_H
#define APICAL_PATHS_H

#include <stddef.h>
#include <stdio.h>

#include "apical/error.h"

enum {
    APICAL_OUT_RENAMED = 1, /* written as .part then renamed over: must be regular if it exists */
};

/* APICAL_OK if path may be written; else APICAL_E_IO with a message naming
 * the path and why. inputs (n_inputs paths, may be NULL) are files the run
 * reads; an output that is one of them is refused. */
apical_status apical_output_check(const char *path, int flags, const char *const *inputs,
                                  size_t n_inputs, apical_error *err);

/* 1 if a and b name the same file, existing or not (the same directory,
 * by device and inode, and the same last component; or the same existing
 * file). */
int apical_same_output(const char *a, const char *b);

/* Open an input (the network file, an IDX file) for reading, only if it is
 * a regular file: a FIFO would block the load until something writes to it
 * (no signal gets it out of open() or read() once SA_RESTART is set), and
 * a device or directory is never a network or data file. The file is
 * opened non-blocking and checked with fstat, so a FIFO cannot block even
 * if it replaces a regular file between a check and the open. `what` names
 * the file in messages ("network file"). NULL with APICAL_E_IO in err
 * when refused or unopenable. */
FILE *apical_open_input(const char *path, const char *what, apical_error *err);

/* The same check for a file another library opens by name (HDF5): path
 * must exist and be a regular file. */
apical_status apical_check_input(const char *path, const char *what, apical_error *err);

/* fsync the directory holding path, so a rename in it is on disk. */
int apical_fsync_dir(const char *path);

#endif
