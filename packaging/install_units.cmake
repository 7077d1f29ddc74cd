# Runs at install time (packaging/CMakeLists.txt): writes the systemd units with the paths
# of the prefix in force then, and installs the supervisor's configuration without ever
# replacing one an operator has edited (a changed default is installed as FILE.new).
# In: MS_PKG_SRC, MS_BINDIR_REL, MS_DOCDIR_REL; CMAKE_INSTALL_PREFIX.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr" OR prefix STREQUAL "/")
  set(MS_SYSCONFDIR "/etc") # the FHS places of a distribution's package
else()
  set(MS_SYSCONFDIR "${prefix}/etc")
endif()
set(MS_BINDIR "${prefix}/${MS_BINDIR_REL}")
set(MS_DOCDIR "${prefix}/${MS_DOCDIR_REL}")
# Written straight into place (no shared work file: parallel installs of one build do not
# race), and recorded in install_manifest.txt like any installed file.
foreach(unit "system/minions-supervisor" "user/minions-secure-serve")
  get_filename_component(base "${unit}" NAME)
  set(dest "${prefix}/lib/systemd/${unit}.service")
  message(STATUS "Installing: $ENV{DESTDIR}${dest}")
  configure_file("${MS_PKG_SRC}/systemd/${base}.service.in" "$ENV{DESTDIR}${dest}" @ONLY)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dest}")
endforeach()

set(conf "$ENV{DESTDIR}${MS_SYSCONFDIR}/minions/supervisor.env")
if(EXISTS "${conf}")
  file(READ "${conf}" have)
  file(READ "${MS_PKG_SRC}/config/supervisor.env" ours)
  if(NOT have STREQUAL ours)
    message(STATUS "Kept: ${conf} (the new default is ${conf}.new)")
    configure_file("${MS_PKG_SRC}/config/supervisor.env" "${conf}.new" COPYONLY)
  endif()
else()
  file(INSTALL DESTINATION "${MS_SYSCONFDIR}/minions" TYPE FILE
       FILES "${MS_PKG_SRC}/config/supervisor.env")
endif()
