/* One Check runner for every suite (list generated from tests/check_*.c). */
#include <check.h>
#include <stdlib.h>

#define APICAL_SUITE(name) Suite *name##_suite(void);
#include "suites.def"
#undef APICAL_SUITE

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define APICAL_SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.def"
#undef APICAL_SUITE
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
