#!/bin/sh
# Build bench/journal_output (make) and run it:
#   sh bench/journal_output.sh [-m MIB] [-c CHUNK] [-d DIR]
# BUILD selects the build directory.
set -eu
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
make -s "$BUILD/bench/journal_output"
exec "$BUILD/bench/journal_output" "$@"
