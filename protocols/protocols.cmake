# protocols/: building blocks of Minion and Minions (JSON extraction from model output,
# the chunking menu, BM25 retrieval): pure functions, their tests and fuzzers.
# Included by CMakeLists.txt after the fuzzer section (it links the fuzz_* targets made there).
add_library(ms_protocols STATIC
  ${CMAKE_SOURCE_DIR}/protocols/extract.c
  ${CMAKE_SOURCE_DIR}/protocols/chunk.c
  ${CMAKE_SOURCE_DIR}/protocols/bm25.c
)
target_link_libraries(ms_protocols PUBLIC ms_common m)

if(MS_TESTS AND NOT MS_FUZZ)
  foreach(t test_extract test_chunk test_bm25)
    ms_test(${t} ${CMAKE_SOURCE_DIR}/tests/protocols/${t}.c)
    target_link_libraries(${t} PRIVATE ms_protocols)
  endforeach()
endif()

if(MS_FUZZ)
  foreach(t fuzz_extract fuzz_chunk)
    if(TARGET ${t})
      target_link_libraries(${t} PRIVATE ms_protocols)
    endif()
  endforeach()
endif()
