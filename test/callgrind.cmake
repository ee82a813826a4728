# The callgrind writer and the pstats2callgrind program: unit tests
# (Check), the command line, and the output checked against the real
# readers (callgrind_annotate, gprof2dot's rules, KCachegrind, Python).
add_executable(callgrind_tests callgrind_tests.c callgrind_test_util.c oom.c profile_gen.c)
target_link_libraries(callgrind_tests PRIVATE pstats PkgConfig::CHECK)
target_include_directories(callgrind_tests PRIVATE ${PSTATS_PRIVATE_INCLUDES})
target_compile_definitions(callgrind_tests PRIVATE
  CALLGRIND_FIXTURES="${PROJECT_SOURCE_DIR}/fixtures")
add_test(NAME callgrind_unit COMMAND callgrind_tests)

if(TARGET pstats2callgrind_cli)
  set(P2C $<TARGET_FILE:pstats2callgrind_cli>)
  add_test(NAME cli_pstats2callgrind
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_tests.sh ${P2C}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/cli_work)
  foreach(r fixtures real kcachegrind speedscope gprof2dot)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/readers_${r}.sh)
      add_test(NAME readers_${r}
               COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/readers_${r}.sh ${P2C}
                       ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/readers_${r})
      set_tests_properties(readers_${r} PROPERTIES SKIP_RETURN_CODE 77)
    endif()
  endforeach()
  set_tests_properties(cli_pstats2callgrind PROPERTIES SKIP_RETURN_CODE 77)
endif()
