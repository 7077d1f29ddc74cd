# minions-secure run (Minion / Minions over the channel; secure/client/cmd_run.c and run_*.c)
# and its end-to-end test against the real programs. Included after client.cmake (the
# minions-secure target), protocols (ms_protocols) and audit.cmake (ms_audit).
target_sources(minions-secure PRIVATE
  ${CMAKE_SOURCE_DIR}/secure/client/cmd_run.c
  ${CMAKE_SOURCE_DIR}/secure/client/run_opts.c
  ${CMAKE_SOURCE_DIR}/secure/client/run_stdin.c
  ${CMAKE_SOURCE_DIR}/secure/client/run_log.c
  ${CMAKE_SOURCE_DIR}/secure/client/run_out.c
  # shared with chat (cmd_chat.cmake lists it too; CMake compiles it once)
  ${CMAKE_SOURCE_DIR}/secure/client/session_log.c
)
target_link_libraries(minions-secure PRIVATE ms_protocols ms_llm ms_audit)

if(MS_TESTS AND NOT MS_FUZZ)
  # The real programs: minions-supervisor (dev key, HTTPS with certs/dev), llm-sim as the
  # supervisor's engine and as the local worker, minions-secure run.
  add_executable(test_run_e2e ${CMAKE_SOURCE_DIR}/tests/e2e/test_run_e2e.c
                              ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c
                              ${CMAKE_SOURCE_DIR}/tests/e2e/stack.c)
  target_link_libraries(test_run_e2e PRIVATE ms_audit ms_client Threads::Threads)
  add_dependencies(test_run_e2e minions-supervisor llm-sim minions-secure)
  add_test(NAME test_run_e2e
           COMMAND test_run_e2e $<TARGET_FILE:minions-supervisor> $<TARGET_FILE:llm-sim>
                   $<TARGET_FILE:minions-secure> ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_run_e2e PROPERTIES LABELS e2e TIMEOUT 600)
  if(MS_VALGRIND)
    # The same, with minions-secure itself under valgrind memcheck.
    add_test(NAME test_run_e2e_memcheck
             COMMAND env "MS_RUN_WRAPPER=valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
                     $<TARGET_FILE:test_run_e2e> $<TARGET_FILE:minions-supervisor>
                     $<TARGET_FILE:llm-sim> $<TARGET_FILE:minions-secure> ${CMAKE_SOURCE_DIR})
    set_tests_properties(test_run_e2e_memcheck PROPERTIES LABELS memcheck TIMEOUT 1800)
  endif()
endif()

if(MS_FUZZ AND TARGET fuzz_run_stdin)
  # The --stdin-json parser, with the run command's option code it fills in.
  target_sources(fuzz_run_stdin PRIVATE
    ${CMAKE_SOURCE_DIR}/secure/client/run_stdin.c
    ${CMAKE_SOURCE_DIR}/secure/client/run_opts.c
    ${CMAKE_SOURCE_DIR}/secure/client/cli.c
    ${CMAKE_SOURCE_DIR}/secure/client/session_log.c
  )
  target_link_libraries(fuzz_run_stdin PRIVATE ms_client ms_protocols ms_llm ms_audit)
endif()
