# common/llm/pool.c (an engine as one value; batches of jobs over one curl multi handle), its
# test against a real llm-sim process, and bench-minions. Included after ms_llm is defined.
target_sources(ms_llm PRIVATE ${CMAKE_SOURCE_DIR}/common/llm/pool.c)

if(NOT MS_FUZZ)
  # bench-minions: 1,000 Minions-shaped jobs against llm-sim (20 ms each), 16 in flight.
  add_executable(bench-minions ${CMAKE_SOURCE_DIR}/bench/bench_minions.c
                               ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c)
  target_link_libraries(bench-minions PRIVATE ms_llm Threads::Threads)
  add_dependencies(bench-minions llm-sim)
endif()

if(MS_TESTS AND NOT MS_FUZZ)
  # llm-sim as a real process; the in-process fixture for what its scripts cannot say.
  add_executable(test_pool ${CMAKE_SOURCE_DIR}/tests/common/test_pool.c
                           ${CMAKE_SOURCE_DIR}/tests/common/http_fixture.c
                           ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c)
  target_link_libraries(test_pool PRIVATE ms_llm PkgConfig::MHD Threads::Threads)
  target_compile_definitions(test_pool PRIVATE MS_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(test_pool llm-sim)
  add_test(NAME test_pool COMMAND test_pool $<TARGET_FILE:llm-sim>)
  set_tests_properties(test_pool PROPERTIES LABELS unit TIMEOUT 600)
  if(MS_VALGRIND)
    add_test(NAME test_pool_memcheck
             COMMAND valgrind --quiet --error-exitcode=99 --leak-check=full
                     --errors-for-leak-kinds=definite,indirect --track-origins=yes
                     $<TARGET_FILE:test_pool> $<TARGET_FILE:llm-sim>)
    set_tests_properties(test_pool_memcheck PROPERTIES LABELS memcheck TIMEOUT 1200)
  endif()
  add_test(NAME bench_minions_smoke
           COMMAND bench-minions --quick --json --llm-sim $<TARGET_FILE:llm-sim>)
  set_tests_properties(bench_minions_smoke PROPERTIES LABELS bench TIMEOUT 300
    PASS_REGULAR_EXPRESSION "\"jobs_vs_ideal\": [0-9.]+")
endif()
