# libpstats: unit tests (Check), golden reports of Python's pstats, the
# pstats writer round trip, and the real profiles of ../shared/real.
file(GLOB PSTATS_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/pstats_*tests.c)
add_executable(pstats_tests ${PSTATS_TEST_SOURCES} oom.c profile_gen.c)
# the input tests compress with the libraries the loader decompresses with
target_link_libraries(pstats_tests PRIVATE pstats PkgConfig::CHECK ${PSTATS_DEP_TARGETS}
                      ${PSTATS_SYSTEM_LIBS})
target_include_directories(pstats_tests PRIVATE ${PSTATS_PRIVATE_INCLUDES} ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(pstats_tests PRIVATE
  PSTATS_FIXTURES="${PROJECT_SOURCE_DIR}/fixtures")
add_test(NAME pstats_unit COMMAND pstats_tests)
set_tests_properties(pstats_unit PROPERTIES ENVIRONMENT "TZ=UTC")

if(PYTHON3 AND TARGET pstats2callgrind_cli)
  add_test(NAME pstats_golden_reports
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/golden_reports.py
                   $<TARGET_FILE:pstats2callgrind_cli> ${PROJECT_SOURCE_DIR})
  add_test(NAME pstats_writer_roundtrip
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/pstats_roundtrip.py
                   $<TARGET_FILE:pstats2callgrind_cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(pstats_writer_roundtrip PROPERTIES SKIP_RETURN_CODE 77)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/real_files.py)
  add_test(NAME pstats_real_files
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/real_files.py
                   $<TARGET_FILE:pstats2callgrind_cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(pstats_real_files PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endif()
