#!/bin/sh
# Build bench/journal_output against the library and run it:
#   sh bench/journal_output.sh [-m MIB] [-c CHUNK] [-d DIR]
# Needs a built library (make). BUILD selects the build directory.
set -eu
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
make -s "$BUILD/libqrh.a"
PKGS="ncursesw libcurl libcjson libssh2 sqlite3 libpq libcmark-gfm yaml-0.1 libcrypto"
# shellcheck disable=SC2046
${CC:-cc} -std=c17 -O2 -g -Wall -Wextra -Werror -I. -D_GNU_SOURCE \
	$(pkg-config --cflags $PKGS) -o "$BUILD/bench_journal_output" \
	bench/journal_output.c "$BUILD/libqrh.a" \
	$(pkg-config --libs $PKGS) -lcmark-gfm-extensions
exec "$BUILD/bench_journal_output" "$@"
