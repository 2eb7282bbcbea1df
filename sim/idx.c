#include "apical/idx.h"
#include "apical/paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Read a whole IDX file: magic, dims, then exactly prod(dims) bytes. */
static apical_status read_idx(const char *path, uint32_t want_magic, uint32_t ndims,
                              uint32_t *dims, size_t limit, uint8_t **data, apical_error *err)
{
    apical_srcpos pos = {path, 0, 0};
    apical_error e2 = {0};
    FILE *f = apical_open_input(path, "IDX file", &e2); /* a FIFO would block */
    if (!f)
        return apical_error_set(err, APICAL_E_IO, &pos, "%s", e2.msg);
    unsigned char head[16];
    size_t head_len = 4 + 4 * ndims;
    apical_status st = APICAL_OK;
    if (fread(head, 1, head_len, f) != head_len) {
        st = apical_error_set(err, APICAL_E_DATA, &pos, "truncated header (%zu bytes expected)",
                              head_len);
        goto done;
    }
    uint32_t magic = be32(head);
    if (magic != want_magic) {
        st = apical_error_set(err, APICAL_E_DATA, &pos,
                              "not an IDX %s file: magic 0x%08x, expected 0x%08x",
                              ndims == 3 ? "image" : "label", magic, want_magic);
        goto done;
    }
    size_t per = 1;
    for (uint32_t k = 0; k < ndims; k++) {
        dims[k] = be32(head + 4 + 4 * k);
        if (k > 0)
            per *= dims[k];
    }
    if (dims[0] == 0 || per == 0 || per > (1u << 24)) {
        st = apical_error_set(err, APICAL_E_DATA, &pos, "implausible dimensions");
        goto done;
    }
    /* the header's promise against the file's size before allocating: a
     * corrupt count must not ask for gigabytes */
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, (long)head_len, SEEK_SET) != 0) {
        st = apical_error_set(err, APICAL_E_IO, &pos, "cannot seek: %s", strerror(errno));
        goto done;
    }
    const unsigned long long body = (unsigned long long)size - head_len,
                             promised = (unsigned long long)dims[0] * per;
    if (body < promised) {
        st = apical_error_set(err, APICAL_E_DATA, &pos,
                              "truncated: the header promises %u items of %zu bytes (%llu bytes), "
                              "the file has %llu after the header",
                              dims[0], per, promised, body);
        goto done;
    }
    if (body > promised) {
        st = apical_error_set(err, APICAL_E_DATA, &pos,
                              "trailing bytes after %u items: corrupt or not IDX", dims[0]);
        goto done;
    }
    size_t n = limit && limit < dims[0] ? limit : dims[0];
    if (!(*data = malloc(n * per))) {
        st = apical_error_set(err, APICAL_E_NOMEM, &pos, "out of memory (%zu bytes)", n * per);
        goto done;
    }
    if (fread(*data, 1, n * per, f) != n * per) {
        st = apical_error_set(err, APICAL_E_DATA, &pos,
                              "truncated: the header promises %u items of %zu bytes", dims[0], per);
        goto done;
    }
    dims[0] = (uint32_t)n;
done:
    fclose(f);
    if (st) {
        free(*data);
        *data = NULL;
    }
    return st;
}

apical_status apical_idx_load(const char *images_path, const char *labels_path, size_t limit,
                              apical_idx_set *out, apical_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t di[3] = {0}, dl[1] = {0};
    apical_status st = read_idx(images_path, 0x00000803u, 3, di, 0, &out->pixels, err);
    if (st)
        return st;
    if ((st = read_idx(labels_path, 0x00000801u, 1, dl, 0, &out->labels, err))) {
        apical_idx_free(out);
        return st;
    }
    if (di[0] != dl[0]) {
        apical_srcpos pos = {labels_path, 0, 0};
        apical_idx_free(out);
        return apical_error_set(err, APICAL_E_DATA, &pos, "%u labels for %u images in %s",
                                dl[0], di[0], images_path);
    }
    out->n = limit && limit < di[0] ? limit : di[0];
    out->rows = di[1];
    out->cols = di[2];
    return APICAL_OK;
}

void apical_idx_free(apical_idx_set *set)
{
    free(set->pixels);
    free(set->labels);
    memset(set, 0, sizeof *set);
}
