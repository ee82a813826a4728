# libpymarshal: unit tests (Check), the round trip judged by real Pythons,
# and the fuzz corpus replayed as a normal test. The libFuzzer targets are
# built only with -DPSTATS_FUZZ=ON and clang (see test/fuzz/fuzz.cmake).
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
