# minions-secure: main.c picks the subcommand; each subcommand is a cmd_*.c of its own.
# Add a subcommand's sources here (and its entry in main.c's COMMANDS).
add_executable(minions-secure
  ${CMAKE_SOURCE_DIR}/secure/client/main.c
  ${CMAKE_SOURCE_DIR}/secure/client/cli.c
  ${CMAKE_SOURCE_DIR}/secure/client/cmd_ask.c
)
target_link_libraries(minions-secure PRIVATE ms_client m)
