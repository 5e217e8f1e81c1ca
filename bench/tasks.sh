#!/bin/sh
# 1000 concurrent tasks each printing 1 MiB through the engine (bench/tasks.c).
# Usage: bench/tasks.sh [N [BYTES]]
set -eu
cd "$(dirname "$0")/.."
make -s build/bench/tasks
build/bench/tasks "$@"
