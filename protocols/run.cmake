# protocols/ runs: Minion and Minions over a supervisor link and the local engine pool, the
# plan parser, the prompts; secure/client/remote.c (the link over ms_client); tests, fuzzer.
# Included by CMakeLists.txt after protocols.cmake and pool.cmake.
target_sources(ms_protocols PRIVATE
  ${CMAKE_SOURCE_DIR}/protocols/plan.c
  ${CMAKE_SOURCE_DIR}/protocols/prompts.c
  ${CMAKE_SOURCE_DIR}/protocols/convo.c
  ${CMAKE_SOURCE_DIR}/protocols/minion.c
  ${CMAKE_SOURCE_DIR}/protocols/minions.c
)
# ms_audit is defined by secure/audit/audit.cmake, included after this file: the generator
# expression is evaluated once every file has been read.
target_link_libraries(ms_protocols PUBLIC ms_llm $<TARGET_NAME_IF_EXISTS:ms_audit>)
target_sources(ms_client PRIVATE ${CMAKE_SOURCE_DIR}/secure/client/remote.c)

if(MS_TESTS AND NOT MS_FUZZ)
  ms_test(test_plan ${CMAKE_SOURCE_DIR}/tests/protocols/test_plan.c)
  target_sources(test_plan PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/http_fixture.c)
  target_link_libraries(test_plan PRIVATE ms_protocols PkgConfig::MHD)
endif()
if(MS_TESTS AND NOT MS_FUZZ AND EXISTS ${CMAKE_SOURCE_DIR}/tests/e2e/test_protocols_e2e.c)
  # Minion and Minions end to end: a real supervisor whose engine is llm-sim A, llm-sim B as
  # the local worker engine, the protocols in-process over secure/client/remote.c.
  add_executable(test_protocols_e2e ${CMAKE_SOURCE_DIR}/tests/e2e/test_protocols_e2e.c
                                    ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c
                                    ${CMAKE_SOURCE_DIR}/tests/e2e/stack.c)
  target_link_libraries(test_protocols_e2e PRIVATE ms_protocols ms_client ms_llm
                                                   Threads::Threads)
  add_dependencies(test_protocols_e2e minions-supervisor llm-sim)
  add_test(NAME test_protocols_e2e
           COMMAND test_protocols_e2e $<TARGET_FILE:minions-supervisor> $<TARGET_FILE:llm-sim>
                   ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_protocols_e2e PROPERTIES LABELS e2e TIMEOUT 600)
endif()

if(MS_FUZZ)
  if(TARGET fuzz_plan)
    target_link_libraries(fuzz_plan PRIVATE ms_protocols)
  endif()
endif()
