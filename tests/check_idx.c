/* IDX (MNIST) reading: a valid pair written here, every kind of corruption,
 * and the real MNIST files when data/mnist has been fetched (make mnist). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apical/idx.h"

static char dir[256];

static void put32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    fwrite(b, 1, 4, f);
}

/* n images of 2x3 pixels (pixel = 10 i + k) and labels i % 10; `extra`
 * trailing bytes, `drop` missing ones. */
static void write_pair(const char *img, const char *lab, uint32_t magic, uint32_t n, uint32_t nl,
                       int extra, int drop)
{
    FILE *f = fopen(img, "wb");
    put32(f, magic);
    put32(f, n);
    put32(f, 2);
    put32(f, 3);
    for (uint32_t i = 0; i < n; i++)
        for (int k = 0; k < 6; k++)
            if (!(drop && i == n - 1 && k >= 6 - drop))
                fputc((int)(10 * i + (uint32_t)k) & 0xff, f);
    for (int k = 0; k < extra; k++)
        fputc(0, f);
    fclose(f);
    f = fopen(lab, "wb");
    put32(f, 0x801);
    put32(f, nl);
    for (uint32_t i = 0; i < nl; i++)
        fputc((int)(i % 10), f);
    fclose(f);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/apical_idx_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_valid_and_limit)
{
    char img[300], lab[300];
    snprintf(img, sizeof img, "%s/i", dir);
    snprintf(lab, sizeof lab, "%s/l", dir);
    write_pair(img, lab, 0x803, 12, 12, 0, 0);
    apical_idx_set s;
    apical_error err;
    ck_assert_int_eq(apical_idx_load(img, lab, 0, &s, &err), APICAL_OK);
    ck_assert_uint_eq(s.n, 12);
    ck_assert_uint_eq(s.rows, 2);
    ck_assert_uint_eq(s.cols, 3);
    ck_assert_uint_eq(s.pixels[6 * 11 + 5], 115);
    ck_assert_uint_eq(s.labels[11], 1);
    apical_idx_free(&s);
    ck_assert_int_eq(apical_idx_load(img, lab, 5, &s, &err), APICAL_OK);
    ck_assert_uint_eq(s.n, 5);
    apical_idx_free(&s);
}
END_TEST

START_TEST(test_corrupt)
{
    char img[300], lab[300];
    snprintf(img, sizeof img, "%s/i", dir);
    snprintf(lab, sizeof lab, "%s/l", dir);
    apical_idx_set s;
    apical_error err;
    write_pair(img, lab, 0x801, 4, 4, 0, 0); /* label magic on an image file */
    ck_assert_int_eq(apical_idx_load(img, lab, 0, &s, &err), APICAL_E_DATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "magic"));
    ck_assert_str_eq(err.pos.file, img);
    write_pair(img, lab, 0x803, 4, 4, 0, 2); /* truncated */
    ck_assert_int_eq(apical_idx_load(img, lab, 0, &s, &err), APICAL_E_DATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
    write_pair(img, lab, 0x803, 4, 4, 3, 0); /* trailing bytes */
    ck_assert_int_eq(apical_idx_load(img, lab, 0, &s, &err), APICAL_E_DATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "trailing"));
    write_pair(img, lab, 0x803, 4, 5, 0, 0); /* count mismatch */
    ck_assert_int_eq(apical_idx_load(img, lab, 0, &s, &err), APICAL_E_DATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "5 labels for 4 images"));
    ck_assert_int_eq(apical_idx_load("/nonexistent/x", lab, 0, &s, &err), APICAL_E_IO);
    ck_assert_ptr_null(s.pixels);
}
END_TEST

/* A header that promises more than the file holds is refused from the
 * file's size, before allocating: 2^32 - 1 images of 4096 x 4096 pixels
 * (7e16 bytes) in a 100-byte file is truncated, not out of memory. Labels
 * may be any byte (classes are the loader's business): a label of 10, which
 * used to be read after the labels were freed, loads. */
START_TEST(test_count_before_alloc)
{
    char img[300], lab[300];
    snprintf(img, sizeof img, "%s/i", dir);
    snprintf(lab, sizeof lab, "%s/l", dir);
    write_pair(img, lab, 0x803, 1, 1, 0, 0);
    FILE *f = fopen(img, "wb");
    put32(f, 0x803), put32(f, 0xffffffffu), put32(f, 4096), put32(f, 4096);
    for (int k = 0; k < 84; k++)
        fputc(0, f);
    fclose(f);
    apical_idx_set s;
    apical_error err;
    ck_assert_int_eq(apical_idx_load(img, lab, 0, &s, &err), APICAL_E_DATA);
    ck_assert_msg(strstr(err.msg, "truncated") && strstr(err.msg, "the file has 84"), "'%s'",
                  err.msg);
    ck_assert_ptr_null(s.pixels);
    write_pair(img, lab, 0x803, 1, 1, 0, 0);
    f = fopen(lab, "wb");
    put32(f, 0x801), put32(f, 1), fputc(10, f);
    fclose(f);
    ck_assert_int_eq(apical_idx_load(img, lab, 0, &s, &err), APICAL_OK);
    ck_assert_uint_eq(s.labels[0], 10);
    apical_idx_free(&s);
}
END_TEST

/* The real files, when fetched: sizes and the first training labels of
 * MNIST (5, 0, 4, 1, 9). */
START_TEST(test_real_mnist)
{
    const char *img = "data/mnist/train-images-idx3-ubyte", *lab = "data/mnist/train-labels-idx1-ubyte";
    if (access(img, R_OK) != 0)
        return; /* not fetched: nothing to check here */
    apical_idx_set s;
    apical_error err;
    ck_assert_int_eq(apical_idx_load(img, lab, 0, &s, &err), APICAL_OK);
    ck_assert_uint_eq(s.n, 60000);
    ck_assert_uint_eq(s.rows * s.cols, 784);
    const uint8_t first[5] = {5, 0, 4, 1, 9};
    ck_assert_int_eq(memcmp(s.labels, first, 5), 0);
    apical_idx_free(&s);
}
END_TEST

Suite *idx_suite(void)
{
    Suite *s = suite_create("idx");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_valid_and_limit);
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_count_before_alloc);
    tcase_add_test(tc, test_real_mnist);
    suite_add_tcase(s, tc);
    return s;
}
