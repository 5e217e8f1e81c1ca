#!/bin/sh
# Cost of one event-loop pass with 2,000 idle fds and 10,000 pending timers
# against one with 10 fds and none, and of a timer add+cancel:
#   sh bench/loop.sh [-f FDS] [-t TIMERS] [-n PASSES]
# BUILD selects the build directory.
set -eu
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
make -s "$BUILD/bench/loop"
exec "$BUILD/bench/loop" "$@"
