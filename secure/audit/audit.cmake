# secure/audit/: audit logs (writer, log key, verifier), the timeline, minions-audit; tests, fuzzer.
# Included by CMakeLists.txt after the fuzzer section (it links the fuzz_* targets made there).
add_library(ms_audit STATIC
  ${CMAKE_SOURCE_DIR}/secure/audit/alog.c
  ${CMAKE_SOURCE_DIR}/secure/audit/alog_fmt.c
  ${CMAKE_SOURCE_DIR}/secure/audit/alog_key.c
  ${CMAKE_SOURCE_DIR}/secure/audit/alog_verify.c
)
# ms_attest: the log key's PEM files and fingerprints are the dev key's (secure/attest/devkey.h).
target_link_libraries(ms_audit PUBLIC ms_attest ms_common PkgConfig::SODIUM Threads::Threads)

if(EXISTS ${CMAKE_SOURCE_DIR}/secure/audit/main.c)
  # The timeline escapes untrusted text with common/text.h (ms_common, through ms_audit).
  add_library(ms_audit_show STATIC ${CMAKE_SOURCE_DIR}/secure/audit/show.c
                            ${CMAKE_SOURCE_DIR}/secure/audit/show_events.c)
  target_link_libraries(ms_audit_show PUBLIC ms_audit m)
  add_executable(minions-audit ${CMAKE_SOURCE_DIR}/secure/audit/main.c)
  target_link_libraries(minions-audit PRIVATE ms_audit_show)
endif()

if(MS_TESTS AND NOT MS_FUZZ)
  ms_test(test_alog ${CMAKE_SOURCE_DIR}/tests/audit/test_alog.c)
  target_link_libraries(test_alog PRIVATE ms_audit Threads::Threads)
  if(TARGET minions-audit)
    # The real program on logs the library writes, and the doc's Python verifier on them.
    add_executable(test_audit_cli ${CMAKE_SOURCE_DIR}/tests/audit/test_audit_cli.c
                                  ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c)
    target_link_libraries(test_audit_cli PRIVATE ms_audit)
    add_dependencies(test_audit_cli minions-audit)
    add_test(NAME test_audit_cli
             COMMAND test_audit_cli $<TARGET_FILE:minions-audit> ${CMAKE_SOURCE_DIR})
    set_tests_properties(test_audit_cli PROPERTIES LABELS integration TIMEOUT 300)
    if(MS_VALGRIND)
      add_test(NAME test_audit_cli_memcheck
               COMMAND test_audit_cli $<TARGET_FILE:minions-audit> ${CMAKE_SOURCE_DIR})
      set_tests_properties(test_audit_cli_memcheck PROPERTIES LABELS memcheck TIMEOUT 1200
                           ENVIRONMENT MS_AUDIT_VALGRIND=1)
    endif()
  endif()
  # docs/logs.md quotes tests/audit/verify_log.py verbatim, and its worked example verifies.
  add_test(NAME audit_doc_matches
           COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/audit/check_doc.py
                   ${CMAKE_SOURCE_DIR})
  set_tests_properties(audit_doc_matches PROPERTIES LABELS unit TIMEOUT 60)
endif()

if(MS_FUZZ)
  if(TARGET fuzz_alog_verify AND TARGET ms_audit_show)
    target_link_libraries(fuzz_alog_verify PRIVATE ms_audit_show)
  endif()
endif()
