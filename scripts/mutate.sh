#!/usr/bin/env bash
# Mutation testing of the security checks: scripts/mutate.py --help (docs/testing.md).
exec python3 "$(dirname "$0")/mutate.py" "$@"
