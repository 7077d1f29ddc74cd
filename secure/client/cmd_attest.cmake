# minions-secure attest (docs/attestation.md): its library parts, the subcommand, its tests
# (real supervisor, swtpm, AMD's Milan report) and the fuzzer of its file reader.
target_sources(ms_attest PRIVATE ${CMAKE_SOURCE_DIR}/secure/attest/inspect.c)
target_sources(ms_client PRIVATE ${CMAKE_SOURCE_DIR}/secure/client/evfile.c)
target_sources(minions-secure PRIVATE
  ${CMAKE_SOURCE_DIR}/secure/client/cmd_attest.c
  ${CMAKE_SOURCE_DIR}/secure/client/cmd_attest_show.c
)

if(MS_TESTS AND NOT MS_FUZZ)
  set(MS_ATTEST_TESTDATA "${CMAKE_SOURCE_DIR}/../shared/testdata")
  # Inspection of every evidence type in-process (dev-key, AMD's Milan report, TPM on swtpm).
  ms_test(test_inspect tests/attest/test_inspect.c)
  target_sources(test_inspect PRIVATE
    ${CMAKE_SOURCE_DIR}/tests/attest/snp_fixture.c
    ${CMAKE_SOURCE_DIR}/tests/attest/tpm2_fixture.c
    ${CMAKE_SOURCE_DIR}/tests/attest/tpm2_swtpm.c
    ${CMAKE_SOURCE_DIR}/tests/attest/tpm2_tpm.c
  )
  target_link_libraries(test_inspect PRIVATE ms_attest PkgConfig::TSS2 OpenSSL::Crypto Threads::Threads)
  target_compile_definitions(test_inspect PRIVATE MS_TESTDATA_DIR="${MS_ATTEST_TESTDATA}")
  set_tests_properties(test_inspect PROPERTIES LABELS "unit;tpm2")
  # The evidence file reader and writer.
  ms_test(test_evfile tests/e2e/test_evfile.c)
  target_link_libraries(test_evfile PRIVATE ms_client)
  target_compile_definitions(test_evfile PRIVATE MS_TESTDATA_DIR="${MS_ATTEST_TESTDATA}")
  # The real programs: minions-secure attest against a supervisor on swtpm, offline checks,
  # and minions-supervisor --evidence sev-snp's start-up errors.
  add_executable(test_attest_cli tests/e2e/test_attest_cli.c tests/e2e/proc.c tests/e2e/stack.c
                                 tests/attest/tpm2_swtpm.c)
  target_link_libraries(test_attest_cli PRIVATE ms_client ms_attest PkgConfig::TSS2 Threads::Threads)
  target_compile_definitions(test_attest_cli PRIVATE MS_TESTDATA_DIR="${MS_ATTEST_TESTDATA}")
  add_dependencies(test_attest_cli minions-supervisor llm-sim minions-secure)
  add_test(NAME test_attest_cli
           COMMAND test_attest_cli $<TARGET_FILE:minions-supervisor> $<TARGET_FILE:llm-sim>
                   $<TARGET_FILE:minions-secure> ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_attest_cli PROPERTIES LABELS e2e TIMEOUT 600)
endif()

if(MS_FUZZ AND TARGET fuzz_evfile)
  target_link_libraries(fuzz_evfile PRIVATE ms_client)
endif()
