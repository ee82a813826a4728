# Where -o goes and what a failed write leaves (test/cli_output_tests.sh):
# files, links, devices, FIFOs, sockets, closed and full outputs, and
# failures injected into write/close/rename and signals by an LD_PRELOAD
# library (io_fail_preload.c, built without sanitizers: it only forwards).
if(TARGET pstats2callgrind_cli AND TARGET pymarshal_cli)
  add_library(io_fail_preload MODULE io_fail_preload.c)
  set_property(TARGET io_fail_preload PROPERTY COMPILE_OPTIONS -Wall -Wextra)
  set_property(TARGET io_fail_preload PROPERTY LINK_OPTIONS "")
  target_link_libraries(io_fail_preload PRIVATE ${CMAKE_DL_LIBS})
  add_test(NAME cli_output
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_output_tests.sh
                   $<TARGET_FILE:pstats2callgrind_cli> $<TARGET_FILE:pymarshal_cli>
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/cli_output
                   $<TARGET_FILE:io_fail_preload>)
endif()

# Short of memory: the CLI under ulimit -v on a generated profile
# (test/cli_memory_tests.sh; skipped in sanitizer builds).
add_executable(profile_gen profile_gen_main.c profile_gen.c)
if(TARGET pstats2callgrind_cli)
  set(PSTATS_SANITIZED OFF)
  if(PSTATS_SANITIZE OR PSTATS_TSAN)
    set(PSTATS_SANITIZED ON)
  endif()
  add_test(NAME cli_memory
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_memory_tests.sh
                   $<TARGET_FILE:pstats2callgrind_cli> $<TARGET_FILE:profile_gen>
                   ${CMAKE_CURRENT_BINARY_DIR}/cli_memory ${PSTATS_SANITIZED})
  set_tests_properties(cli_memory PROPERTIES SKIP_RETURN_CODE 77)
endif()
