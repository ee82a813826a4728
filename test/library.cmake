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

# An installed copy, moved after installing (nothing may remember where it
# was installed), then docs/examples/profile_summary.c built against it by
# pkg-config and by find_package(pstats), linked shared and static.
set(INSTALL_WORK ${CMAKE_CURRENT_BINARY_DIR}/installed)
add_test(NAME install_moved
         COMMAND sh -c "rm -rf \"$1\" \"$1.orig\" && \"$2\" --install \"$3\" --prefix \"$1.orig\" >/dev/null && mv \"$1.orig\" \"$1\""
                 sh ${INSTALL_WORK}/prefix ${CMAKE_COMMAND} ${PROJECT_BINARY_DIR})
set_tests_properties(install_moved PROPERTIES FIXTURES_SETUP installed)
if(PSTATS_SANITIZE)
  set(CONSUMER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
foreach(route pkg-config cmake)
  foreach(link shared static)
    add_test(NAME consumer_${route}_${link}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/consumer_check.sh ${route} ${link}
                     ${INSTALL_WORK}/prefix ${PROJECT_SOURCE_DIR}
                     ${INSTALL_WORK}/${route}_${link} ${CMAKE_C_COMPILER} ${CONSUMER_FLAGS})
    set_tests_properties(consumer_${route}_${link} PROPERTIES FIXTURES_REQUIRED installed)
  endforeach()
endforeach()

# cpack's .debs and .tar.gz: declared dependencies, and working when
# unpacked into a scratch root (package_check.sh).
add_test(NAME packages
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/package_check.sh ${PROJECT_BINARY_DIR}
                 ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/packages
                 ${CMAKE_C_COMPILER} ${CONSUMER_FLAGS})
set_tests_properties(packages PROPERTIES SKIP_RETURN_CODE 77)

# The public headers alone, as C99 and as C++11, with each compiler found
# (the build's, gcc, clang, g++, clang++).
set(HEADER_COMPILERS c=${CMAKE_C_COMPILER})
foreach(c gcc clang g++ clang++)
  string(MAKE_C_IDENTIFIER "${c}" id)
  find_program(HEADERS_${id} ${c})
  if(HEADERS_${id} AND c MATCHES "[+][+]$")
    list(APPEND HEADER_COMPILERS c++=${HEADERS_${id}})
  elseif(HEADERS_${id})
    list(APPEND HEADER_COMPILERS c=${HEADERS_${id}})
  endif()
endforeach()
add_test(NAME headers COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/headers_check.sh
                              ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR} ${HEADER_COMPILERS})

# Every man page renders without a warning.
add_test(NAME man_pages COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/man_check.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(man_pages PROPERTIES SKIP_RETURN_CODE 77)
