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
