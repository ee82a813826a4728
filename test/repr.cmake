# repr of marshal values and the pymarshal program (fixtures/repr/).
add_executable(repr_tests repr_tests.c oom.c)
target_link_libraries(repr_tests PRIVATE pymarshal PkgConfig::CHECK)
target_compile_definitions(repr_tests PRIVATE
  REPR_FIXTURES="${PROJECT_SOURCE_DIR}/fixtures/repr")
add_test(NAME repr_unit COMMAND repr_tests)

if(TARGET pymarshal_cli)
  add_test(NAME pymarshal_golden
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/pymarshal_golden.sh
                   $<TARGET_FILE:pymarshal_cli> ${PROJECT_SOURCE_DIR} fixtures)
  add_test(NAME pymarshal_real
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/pymarshal_golden.sh
                   $<TARGET_FILE:pymarshal_cli> ${PROJECT_SOURCE_DIR} real)
  set_tests_properties(pymarshal_real PROPERTIES SKIP_RETURN_CODE 77)
  # pymarshal --python=W against marshal.loads of every installed W, on
  # mutated fixtures (a sample; --full on demand: docs/marshal-decoder.md)
  if(PYTHON3)
    add_test(NAME pymarshal_differential
             COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/marshal_differential.py
                     $<TARGET_FILE:pymarshal_cli> ${PROJECT_SOURCE_DIR})
    set_tests_properties(pymarshal_differential PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endif()
