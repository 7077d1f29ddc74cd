# protocols/context: the user's documents (files, trees, PDF through poppler-glib) for the worker.
# Included by CMakeLists.txt after protocols.cmake (it adds sources to ms_protocols).
pkg_check_modules(POPPLER_GLIB REQUIRED IMPORTED_TARGET poppler-glib)
target_sources(ms_protocols PRIVATE
  ${CMAKE_SOURCE_DIR}/protocols/context.c
  ${CMAKE_SOURCE_DIR}/protocols/context_pdf.c
)
target_link_libraries(ms_protocols PRIVATE PkgConfig::POPPLER_GLIB)

if(MS_TESTS AND NOT MS_FUZZ)
  ms_test(test_context ${CMAKE_SOURCE_DIR}/tests/protocols/test_context.c)
  target_sources(test_context PRIVATE ${CMAKE_SOURCE_DIR}/tests/e2e/proc.c)
  target_link_libraries(test_context PRIVATE ms_protocols)
endif()
