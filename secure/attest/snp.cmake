# SEV-SNP evidence (docs/attest-sev-snp.md): its sources in ms_attest, its tests and its fuzzer.
# Included at the end of CMakeLists.txt.
target_sources(ms_attest PRIVATE
  ${CMAKE_SOURCE_DIR}/secure/attest/snp_report.c
  ${CMAKE_SOURCE_DIR}/secure/attest/snp_x509.c
  ${CMAKE_SOURCE_DIR}/secure/attest/snp_verify.c
  ${CMAKE_SOURCE_DIR}/secure/attest/snp_certtable.c
  ${CMAKE_SOURCE_DIR}/secure/attest/snp_produce.c
  ${CMAKE_SOURCE_DIR}/secure/attest/snp_guest.c
  ${CMAKE_SOURCE_DIR}/secure/attest/snp_certfile.c
)

if(MS_TESTS AND NOT MS_FUZZ)
  # The real AMD vectors live beside the repository (README: CI runs with shared/ next to it).
  set(MS_SNP_TESTDATA "${CMAKE_SOURCE_DIR}/../shared/testdata")
  ms_test(test_snp tests/attest/test_snp.c)
  target_sources(test_snp PRIVATE tests/attest/snp_fixture.c)
  target_link_libraries(test_snp PRIVATE ms_attest OpenSSL::Crypto)
  target_compile_definitions(test_snp PRIVATE MS_TESTDATA_DIR="${MS_SNP_TESTDATA}")
  # The producer against a fake configfs-tsm tree that a thread of the test serves.
  ms_test(test_snp_produce tests/attest/test_snp_produce.c)
  target_sources(test_snp_produce PRIVATE tests/attest/snp_fixture.c tests/attest/snp_fake_tsm.c)
  target_link_libraries(test_snp_produce PRIVATE ms_attest OpenSSL::Crypto Threads::Threads)
  target_compile_definitions(test_snp_produce PRIVATE MS_TESTDATA_DIR="${MS_SNP_TESTDATA}")
endif()

if(TARGET fuzz_snp)
  target_link_libraries(fuzz_snp PRIVATE ms_attest)
endif()
