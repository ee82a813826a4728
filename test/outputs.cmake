# The outputs beyond the converter (issue 14): JSON of every fixture and real
# profile checked against Python and the JSON Schema (Debian's
# python3-jsonschema, hence /usr/bin/python3), the diff, path mapping and
# Python 3.15 sampled profiles against goldens and Python, and KCachegrind's
# source view on a mapped path.
find_program(DEBIAN_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(TARGET pstats2callgrind_cli AND DEBIAN_PYTHON3)
  set(P2C $<TARGET_FILE:pstats2callgrind_cli>)
  add_test(NAME outputs_json
           COMMAND ${DEBIAN_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/outputs_json.py ${P2C}
                   ${PROJECT_SOURCE_DIR})
  add_test(NAME outputs_golden
           COMMAND ${DEBIAN_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/outputs_golden.py ${P2C}
                   ${PROJECT_SOURCE_DIR})
  add_test(NAME outputs_diff
           COMMAND ${DEBIAN_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/outputs_diff.py ${P2C}
                   ${PROJECT_SOURCE_DIR})
  add_test(NAME outputs_kcachegrind_source
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/outputs_kcachegrind.sh ${P2C}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/outputs_kcachegrind)
  set_tests_properties(outputs_kcachegrind_source PROPERTIES SKIP_RETURN_CODE 77)
  set_tests_properties(outputs_json outputs_golden outputs_diff PROPERTIES ENVIRONMENT "TZ=UTC")
endif()
