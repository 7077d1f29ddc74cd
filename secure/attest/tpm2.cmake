# TPM 2.0 quote evidence (docs/attest-tpm2.md): verifier (tss2-mu, OpenSSL), producer (ESAPI),
# its tests against a swtpm they start themselves, and its fuzzer. Included by CMakeLists.txt.
pkg_check_modules(TSS2 REQUIRED IMPORTED_TARGET tss2-esys tss2-mu tss2-tctildr)

target_sources(ms_attest PRIVATE
  ${CMAKE_SOURCE_DIR}/secure/attest/tpm2_bundle.c
  ${CMAKE_SOURCE_DIR}/secure/attest/tpm2_key.c
  ${CMAKE_SOURCE_DIR}/secure/attest/tpm2_verify.c
  ${CMAKE_SOURCE_DIR}/secure/attest/tpm2_esys.c
  ${CMAKE_SOURCE_DIR}/secure/attest/tpm2_producer.c
)
target_link_libraries(ms_attest PRIVATE PkgConfig::TSS2)

if(MS_TESTS AND NOT MS_FUZZ)
  # Each test starts its own swtpm (PATH; scripts/install-deps.sh) on a free loopback port.
  # The memcheck twins run valgrind on the test only: swtpm, a child, is not traced.
  foreach(t test_tpm2 test_tpm2_bytes)
    ms_test(${t} ${CMAKE_SOURCE_DIR}/tests/attest/${t}.c)
    target_sources(${t} PRIVATE
      ${CMAKE_SOURCE_DIR}/tests/attest/tpm2_fixture.c
      ${CMAKE_SOURCE_DIR}/tests/attest/tpm2_swtpm.c
      ${CMAKE_SOURCE_DIR}/tests/attest/tpm2_tpm.c
    )
    target_link_libraries(${t} PRIVATE ms_attest PkgConfig::TSS2 OpenSSL::Crypto Threads::Threads)
    set_tests_properties(${t} PROPERTIES LABELS "unit;tpm2")
  endforeach()
endif()

if(MS_FUZZ AND TARGET fuzz_tpm2)
  target_link_libraries(fuzz_tpm2 PRIVATE ms_attest)
endif()
