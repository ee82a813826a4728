# Inputs that are not plain files at rest, through the command line: stdin,
# pipes, FIFOs, compressed files, endless devices, files truncated while
# read; and files on a full or read-only file system (skipped, 77, where
# the test may not mount a tmpfs). The library's side: pstats_input_tests.c.
if(TARGET pstats2callgrind_cli)
  add_test(NAME input_cli
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/input_cli_tests.sh
                   $<TARGET_FILE:pstats2callgrind_cli> ${PROJECT_SOURCE_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/input_cli_work)
  add_test(NAME input_filesystems
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/input_fs_tests.sh
                   $<TARGET_FILE:pstats2callgrind_cli> ${PROJECT_SOURCE_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/input_fs_work)
  set_tests_properties(input_filesystems PROPERTIES SKIP_RETURN_CODE 77)
endif()
