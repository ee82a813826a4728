# Pictures of a profile (lib/graph/): --format dot against gprof2dot's own
# output (fixtures/golden/dot) and rendered by graphviz; flame graphs
# (--format svg, collapsed) checked for consistency and against pstats,
# opened in Debian's Chromium and read by the real speedscope; pruning
# (--node-thres/--edge-thres) checked for exact totals. The JavaScript tools
# (test/js/package.json) are installed once per build tree by npm.
add_executable(graphs_tests graphs_tests.c callgrind_test_util.c oom.c)
target_link_libraries(graphs_tests PRIVATE pstats PkgConfig::CHECK m)
target_include_directories(graphs_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(graphs_tests PRIVATE GRAPHS_FIXTURES="${PROJECT_SOURCE_DIR}/fixtures"
  CALLGRIND_FIXTURES="${PROJECT_SOURCE_DIR}/fixtures")
add_test(NAME graphs_unit COMMAND graphs_tests)

if(TARGET pstats2callgrind_cli)
  set(P2C $<TARGET_FILE:pstats2callgrind_cli>)
  set(JS_TOOLS ${CMAKE_CURRENT_BINARY_DIR}/js_tools)
  add_test(NAME js_tools_install
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/js/install.sh ${PROJECT_SOURCE_DIR} ${JS_TOOLS})
  set_tests_properties(js_tools_install PROPERTIES FIXTURES_SETUP js_tools)
  add_test(NAME graphs_cli
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/graphs_cli.sh ${P2C}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/graphs_cli)
  add_test(NAME graphs_dot
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/graphs_dot.sh ${P2C}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/graphs_dot)
  add_test(NAME graphs_flame
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/graphs_flame.py ${P2C}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/graphs_flame)
  add_test(NAME graphs_prune
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/graphs_prune.py ${P2C}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/graphs_prune)
  # The browser checks the SVG's script, not our C code (which graphs_flame
  # runs under the sanitizers): once, in the plain build (minutes).
  if(NOT PSTATS_SANITIZE)
    add_test(NAME graphs_browser
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/graphs_browser.sh ${P2C}
                     ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/graphs_browser ${JS_TOOLS})
    set_tests_properties(graphs_browser PROPERTIES FIXTURES_REQUIRED js_tools)
  endif()
endif()
if(TEST readers_speedscope)
  set_tests_properties(readers_speedscope PROPERTIES FIXTURES_REQUIRED js_tools)
endif()
