/* IDX files (the MNIST format: big-endian magic 0x00000803 for images,
 * 0x00000801 for labels, then dimensions, then unsigned bytes), read whole
 * and checked: a wrong magic, a truncated file, trailing bytes, or images and
 * labels that disagree in count are APICAL_E_DATA with the path and what is
 * wrong (the header's count is checked against the file's size before
 * anything is allocated); a missing file is APICAL_E_IO. Labels may be any
 * byte: which classes exist is the caller's business (the loader checks
 * them against the protocol's output population). */
#ifndef APICAL_IDX_H
#define APICAL_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "apical/error.h"

typedef struct apical_idx_set {
    size_t n;            /* examples */
    size_t rows, cols;   /* image size */
    uint8_t *pixels;     /* n * rows * cols, row-major per image */
    uint8_t *labels;     /* n */
} apical_idx_set;

/* Load images and labels; at most `limit` examples (0 = all). */
apical_status apical_idx_load(const char *images_path, const char *labels_path, size_t limit,
                              apical_idx_set *out, apical_error *err);
void apical_idx_free(apical_idx_set *set);

#endif
