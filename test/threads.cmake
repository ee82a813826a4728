# The two-thread paths (the loader's pipe and key permutation, the callgrind
# writer's halves and formatting pipeline) on a mid-size profile and with
# every path forced on fixtures: a plain test in every build, a data-race
# check in the -DPSTATS_TSAN=ON build that .ci/run makes.
add_executable(threads_check threads_check.c profile_gen.c)
target_include_directories(threads_check PRIVATE ${PSTATS_PRIVATE_INCLUDES})
target_link_libraries(threads_check PRIVATE pstats)
add_test(NAME threads_mid_size COMMAND threads_check ${PROJECT_SOURCE_DIR}/fixtures)
if(PSTATS_TSAN)
  set_tests_properties(threads_mid_size PROPERTIES
                       ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")
endif()
