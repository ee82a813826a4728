/* Runs the libpymarshal Check suites. */
#include <stdlib.h>

#include "marshal_test_util.h"

int main(void)
{
    SRunner *sr = srunner_create(marshal_reader_suite());
    srunner_add_suite(sr, marshal_tokens_suite());
    srunner_add_suite(sr, marshal_writer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
