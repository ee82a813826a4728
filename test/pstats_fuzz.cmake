# libpstats under hostile input: the fuzz target's entry point replayed over
# its findings (test/fuzz/pstats_corpus/), the real profiles and bad inputs
# of fixtures/ (every build), and the
# libFuzzer target itself with -DPSTATS_FUZZ=ON and clang.
add_executable(pstats_fuzz_replay fuzz/regression_driver.c fuzz/fuzz_pstats_load.c)
target_link_libraries(pstats_fuzz_replay PRIVATE pstats)
add_test(NAME pstats_fuzz_corpus
         COMMAND pstats_fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/pstats_corpus ${PROJECT_SOURCE_DIR}/fixtures/profiles
                 ${PROJECT_SOURCE_DIR}/fixtures/bad ${PROJECT_SOURCE_DIR}/fixtures/fibonacci.prof)

# The loader's fast path and its general loader agree on every input
# (fuzz/paths_corpus: fuzz_pstats_paths' corpus, merged to inputs <= 400 bytes).
add_executable(pstats_paths_replay fuzz/regression_driver.c fuzz/fuzz_pstats_paths.c)
target_include_directories(pstats_paths_replay PRIVATE ${PSTATS_PRIVATE_INCLUDES})
target_link_libraries(pstats_paths_replay PRIVATE pstats)
add_test(NAME pstats_paths_corpus
         COMMAND pstats_paths_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/paths_corpus
                 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/pstats_corpus ${PROJECT_SOURCE_DIR}/fixtures/profiles
                 ${PROJECT_SOURCE_DIR}/fixtures/bad ${PROJECT_SOURCE_DIR}/fixtures/fibonacci.prof)

# The callgrind writer's output read back (fuzz/callgrind_writer_corpus) and the
# reports after sorts, restrictions, strip_dirs and merges
# (fuzz/reports_corpus), over their findings, the other corpora and the
# fixtures.
foreach(t callgrind_writer pstats_reports)
  string(REGEX REPLACE "^pstats_" "" short ${t})
  add_executable(${short}_fuzz_replay fuzz/regression_driver.c fuzz/fuzz_${t}.c)
  target_include_directories(${short}_fuzz_replay PRIVATE ${PSTATS_PRIVATE_INCLUDES})
  target_link_libraries(${short}_fuzz_replay PRIVATE pstats)
  add_test(NAME ${short}_fuzz_corpus
           COMMAND ${short}_fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${short}_corpus
                   ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/pstats_corpus ${PROJECT_SOURCE_DIR}/fixtures/profiles
                   ${PROJECT_SOURCE_DIR}/fixtures/bad ${PROJECT_SOURCE_DIR}/fixtures/fibonacci.prof)
endforeach()

if(PSTATS_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  file(GLOB FUZZ_ALL_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lib/common/*.c ${PROJECT_SOURCE_DIR}/lib/marshal/*.c
       ${PROJECT_SOURCE_DIR}/lib/pstats/*.c ${PROJECT_SOURCE_DIR}/lib/callgrind/*.c)
  foreach(target fuzz_pstats_load fuzz_pstats_paths fuzz_callgrind_writer fuzz_pstats_reports)
    pstats_add_fuzzer(${target} fuzz/${target}.c ${FUZZ_ALL_SOURCES})
    target_link_libraries(${target} PRIVATE ${PSTATS_DEP_TARGETS} ${PSTATS_SYSTEM_LIBS})
  endforeach()
endif()
