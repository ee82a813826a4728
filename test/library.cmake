# The libraries as others use them: the exported functions (the ABI), the
# layers' include rules, the public headers on their own, the man pages,
# and an installed copy built against by pkg-config and by CMake.

# Exported functions against lib/<library>.symbols (symbols_check.sh).
foreach(lib pymarshal pstats)
  if(lib STREQUAL "pstats")
    set(header ${PROJECT_SOURCE_DIR}/include/pstats/pstats.h)
  else()
    set(header ${PROJECT_SOURCE_DIR}/include/pstats/marshal.h)
  endif()
  set(args $<TARGET_FILE:${lib}_shared> ${header} ${PROJECT_SOURCE_DIR}/lib/lib${lib}.symbols)
  add_test(NAME symbols_${lib} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/symbols_check.sh ${args})
  list(APPEND SYMBOLS_UPDATE COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/symbols_check.sh --update ${args})
endforeach()
add_custom_target(update-symbols ${SYMBOLS_UPDATE} DEPENDS pymarshal_shared pstats_shared
                  COMMENT "Rewriting lib/*.symbols from the shared libraries")

# No include runs from a lower layer up (lib/README.md's tables).
add_test(NAME layers COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/layers_check.sh ${PROJECT_SOURCE_DIR})
