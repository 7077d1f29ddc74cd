# Supervisor additions: the STRICT evidence rate limit, the supervisor's own audit log of
# sessions, their end-to-end tests, and bench-e2e's TPM handshakes. Included by CMakeLists.txt
# after secure/attest/tpm2.cmake (PkgConfig::TSS2) and secure/audit/audit.cmake (ms_audit).
target_sources(ms_supervisor PRIVATE ${CMAKE_SOURCE_DIR}/secure/supervisor/ratelimit.c)

# bench-e2e: handshakes with --evidence tpm2 on a swtpm it starts (FAST vs dev-key, STRICT).
target_sources(bench-e2e PRIVATE ${CMAKE_SOURCE_DIR}/bench/bench_e2e_tpm.c
                                 ${CMAKE_SOURCE_DIR}/tests/attest/tpm2_swtpm.c)
target_link_libraries(bench-e2e PRIVATE ms_attest PkgConfig::TSS2)

if(MS_TESTS AND NOT MS_FUZZ)
  ms_test(test_ratelimit ${CMAKE_SOURCE_DIR}/tests/supervisor/test_ratelimit.c)
  target_link_libraries(test_ratelimit PRIVATE ms_supervisor)
  # --strict-rate against a real supervisor (dev-key evidence: STRICT is cheap, the limit is not)
  add_executable(test_strict_rate_e2e ${CMAKE_SOURCE_DIR}/tests/supervisor/test_strict_rate_e2e.c
                                      ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c
                                      ${CMAKE_SOURCE_DIR}/tests/e2e/stack.c)
  target_link_libraries(test_strict_rate_e2e PRIVATE ms_client ms_attest Threads::Threads)
  add_dependencies(test_strict_rate_e2e minions-supervisor llm-sim)
  add_test(NAME test_strict_rate_e2e
           COMMAND test_strict_rate_e2e $<TARGET_FILE:minions-supervisor> $<TARGET_FILE:llm-sim>
                   ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_strict_rate_e2e PROPERTIES LABELS e2e TIMEOUT 300)
  set_tests_properties(bench_e2e_smoke PROPERTIES PASS_REGULAR_EXPRESSION
    "\"turn_vs_direct\": [0-9.]+, \"handshakes_vs_tls_new\": [0-9.]+, \"rss_mib_10k_sessions\": [0-9.]+, \"handshakes_tpm_fast_vs_dev\": [0-9.]+, \"handshakes_tpm_strict_per_s\": [0-9.]+")
endif()

# The supervisor's own audit log (--audit-log), through secure/audit/ (ms_audit).
if(TARGET ms_audit)
  target_sources(ms_supervisor PRIVATE ${CMAKE_SOURCE_DIR}/secure/supervisor/audit.c)
  target_link_libraries(ms_supervisor PUBLIC ms_audit)
endif()
if(TARGET ms_audit AND MS_TESTS AND NOT MS_FUZZ)
  ms_test(test_sup_audit ${CMAKE_SOURCE_DIR}/tests/supervisor/test_sup_audit.c)
  target_link_libraries(test_sup_audit PRIVATE ms_supervisor)
  # A real supervisor with --audit-log: two sessions, SIGTERM, the sealed log verified.
  add_executable(test_supervisor_audit ${CMAKE_SOURCE_DIR}/tests/e2e/test_supervisor_audit.c
                                       ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c
                                       ${CMAKE_SOURCE_DIR}/tests/e2e/stack.c
                                       ${CMAKE_SOURCE_DIR}/tests/e2e/rawclient.c)
  target_link_libraries(test_supervisor_audit PRIVATE ms_client ms_audit PkgConfig::CURL
                                                      Threads::Threads)
  add_dependencies(test_supervisor_audit minions-supervisor llm-sim)
  add_test(NAME test_supervisor_audit
           COMMAND test_supervisor_audit $<TARGET_FILE:minions-supervisor> $<TARGET_FILE:llm-sim>
                   ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_supervisor_audit PROPERTIES LABELS e2e TIMEOUT 300)
endif()
