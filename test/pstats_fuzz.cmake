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
target_include_directories(pstats_paths_replay PRIVATE ${PROJECT_SOURCE_DIR}/lib)
target_link_libraries(pstats_paths_replay PRIVATE pstats)
add_test(NAME pstats_paths_corpus
         COMMAND pstats_paths_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/paths_corpus
                 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/pstats_corpus ${PROJECT_SOURCE_DIR}/fixtures/profiles
                 ${PROJECT_SOURCE_DIR}/fixtures/bad ${PROJECT_SOURCE_DIR}/fixtures/fibonacci.prof)

if(PSTATS_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  file(GLOB FUZZ_ALL_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lib/marshal_*.c
       ${PROJECT_SOURCE_DIR}/lib/pstats_*.c)
  add_executable(fuzz_pstats_load fuzz/fuzz_pstats_load.c ${FUZZ_ALL_SOURCES})
  target_include_directories(fuzz_pstats_load PRIVATE
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include ${PROJECT_SOURCE_DIR}/lib)
  target_compile_options(fuzz_pstats_load PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=all)
  target_link_options(fuzz_pstats_load PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_pstats_load PRIVATE PkgConfig::XXHASH PkgConfig::PCRE2 m)
  add_executable(fuzz_pstats_paths fuzz/fuzz_pstats_paths.c ${FUZZ_ALL_SOURCES})
  target_include_directories(fuzz_pstats_paths PRIVATE
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include ${PROJECT_SOURCE_DIR}/lib)
  target_compile_options(fuzz_pstats_paths PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=all)
  target_link_options(fuzz_pstats_paths PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_pstats_paths PRIVATE PkgConfig::XXHASH PkgConfig::PCRE2 m)
endif()
