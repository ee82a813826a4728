# libpymarshal: unit tests (Check), the round trip judged by real Pythons,
# and the fuzz corpus replayed as a normal test. The libFuzzer targets are
# built only with -DPSTATS_FUZZ=ON and clang (below).
add_executable(marshal_rt_tool marshal_rt_tool.c)
target_link_libraries(marshal_rt_tool PRIVATE pymarshal)

if(PYTHON3)
  file(GLOB MARSHAL_RT_PROFILES ${PROJECT_SOURCE_DIR}/fixtures/profiles/*.prof)
  add_test(NAME marshal_roundtrip_python
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/marshal_roundtrip.py
                   $<TARGET_FILE:marshal_rt_tool> ${CMAKE_CURRENT_BINARY_DIR}/marshal_rt
                   ${MARSHAL_RT_PROFILES})
  set_tests_properties(marshal_roundtrip_python PROPERTIES SKIP_RETURN_CODE 77)
endif()

# The fuzz target's entry point replayed over the corpus: seeds, the bad
# inputs and the real profiles of fixtures/.
add_executable(marshal_fuzz_replay fuzz/regression_driver.c fuzz/fuzz_marshal_decode.c)
target_link_libraries(marshal_fuzz_replay PRIVATE pymarshal)
add_test(NAME marshal_fuzz_corpus
         COMMAND marshal_fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus
                 ${PROJECT_SOURCE_DIR}/fixtures/bad ${PROJECT_SOURCE_DIR}/fixtures/profiles)

# libFuzzer: -DPSTATS_FUZZ=ON with clang (pstats_add_fuzzer, test/CMakeLists.txt).
if(PSTATS_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  file(GLOB FUZZ_PYMARSHAL_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lib/common/*.c ${PROJECT_SOURCE_DIR}/lib/marshal/*.c)
  pstats_add_fuzzer(fuzz_marshal_decode fuzz/fuzz_marshal_decode.c ${FUZZ_PYMARSHAL_SOURCES})
elseif(PSTATS_FUZZ)
  message(WARNING "PSTATS_FUZZ needs clang (CC=clang): fuzz targets not built")
endif()

# Check unit tests; the byte cases come from test/marshal_cases.py.
add_executable(marshal_tests marshal_test_main.c marshal_test_util.c oom.c marshal_tests.c
               marshal_tokens_tests.c marshal_writer_tests.c)
target_link_libraries(marshal_tests PRIVATE pymarshal PkgConfig::CHECK)
target_compile_definitions(marshal_tests PRIVATE MARSHAL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_test(NAME marshal_unit COMMAND marshal_tests)
