/* llm-sim: the command line. */
#ifndef MS_TOOLS_LLMSIM_OPTS_H
#define MS_TOOLS_LLMSIM_OPTS_H

#include "tools/llm-sim/llmsim.h"

/* llmsim_parse_args' answer when the program goes on (anything else is an exit code). */
#define LLMSIM_CONTINUE (-1)

/*
 * Fill cfg from argv (strings borrowed). LLMSIM_CONTINUE to serve; LLMSIM_EXIT_OK after
 * --help or --version (printed to standard output); LLMSIM_EXIT_USAGE with the reason on
 * standard error.
 */
int llmsim_parse_args(int argc, char **argv, llmsim_config *cfg);

#endif
