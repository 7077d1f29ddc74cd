/* The project's version: one place, project(VERSION) in the top-level CMakeLists.txt, which
   gives it to every target as MS_VERSION (programs' --version, log "program" fields, the
   package's version). */
#ifndef MS_COMMON_VERSION_H
#define MS_COMMON_VERSION_H

#ifndef MS_VERSION
#error "MS_VERSION is set by CMakeLists.txt (project VERSION)"
#endif

#endif
