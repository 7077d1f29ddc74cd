# minions-secure chat (secure/client/cmd_chat.c and chat_*.c), its session log, and its tests.
# Included by CMakeLists.txt after client.cmake (minions-secure exists) and audit.cmake (ms_audit).
pkg_check_modules(LIBEDIT REQUIRED IMPORTED_TARGET libedit)
target_sources(minions-secure PRIVATE
  ${CMAKE_SOURCE_DIR}/secure/client/cmd_chat.c
  ${CMAKE_SOURCE_DIR}/secure/client/chat_cmds.c
  ${CMAKE_SOURCE_DIR}/secure/client/chat_conv.c
  ${CMAKE_SOURCE_DIR}/secure/client/chat_input.c
  ${CMAKE_SOURCE_DIR}/secure/client/session_log.c
)
# ms_llm: the image type check (common/llm/chat.h); ms_protocols: /attach (protocols/context.h).
target_link_libraries(minions-secure PRIVATE ms_audit ms_protocols ms_llm PkgConfig::LIBEDIT)

if(MS_TESTS AND NOT MS_FUZZ)
  # The real programs: minions-supervisor (dev key), llm-sim and minions-secure chat, driven
  # from a pipe and from a terminal (tmux).
  add_executable(test_chat_e2e ${CMAKE_SOURCE_DIR}/tests/e2e/test_chat_e2e.c
                               ${CMAKE_SOURCE_DIR}/tests/e2e/chat_fixture.c
                               ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c
                               ${CMAKE_SOURCE_DIR}/tests/e2e/stack.c)
  target_link_libraries(test_chat_e2e PRIVATE ms_client ms_audit ms_llm Threads::Threads)
  target_compile_definitions(test_chat_e2e PRIVATE MS_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(test_chat_e2e minions-supervisor llm-sim minions-secure)
  add_test(NAME test_chat_e2e
           COMMAND test_chat_e2e $<TARGET_FILE:minions-supervisor> $<TARGET_FILE:llm-sim>
                   $<TARGET_FILE:minions-secure> ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_chat_e2e PROPERTIES LABELS e2e TIMEOUT 600)
  if(MS_VALGRIND)
    # The same, with minions-secure itself under valgrind memcheck.
    add_test(NAME test_chat_e2e_memcheck
             COMMAND env "MS_CHAT_WRAPPER=valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
                     $<TARGET_FILE:test_chat_e2e> $<TARGET_FILE:minions-supervisor>
                     $<TARGET_FILE:llm-sim> $<TARGET_FILE:minions-secure> ${CMAKE_SOURCE_DIR})
    set_tests_properties(test_chat_e2e_memcheck PROPERTIES LABELS memcheck TIMEOUT 1800)
  endif()
  # The chat's input: line lengths from a pipe, the libedit history wiped on close.
  ms_test(test_chat_input ${CMAKE_SOURCE_DIR}/tests/client/test_chat_input.c)
  target_sources(test_chat_input PRIVATE ${CMAKE_SOURCE_DIR}/secure/client/chat_input.c)
  target_link_libraries(test_chat_input PRIVATE PkgConfig::LIBEDIT)
  # §12.3 content parts and image checks, in-process (the supervisor's decoder).
  ms_test(test_chat_parts ${CMAKE_SOURCE_DIR}/tests/supervisor/test_chat_parts.c)
  target_sources(test_chat_parts PRIVATE ${CMAKE_SOURCE_DIR}/secure/client/chat_conv.c)
  target_link_libraries(test_chat_parts PRIVATE ms_supervisor ms_client ms_llm)
endif()
