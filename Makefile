# qrh — GNU Make build.
#   make            build ./qrh
#   make check      build and run every test (installs missing deps first)
#   make check-asan the same under AddressSanitizer + UBSan
#   make check-slow the long crash campaign (CRASH_KILLS=240 kill -9s)
#   make deps       install build and test dependencies (Debian 12, apt-get)
#   make demo       the failover drill against the DR sandbox (demo-stop: down)
#   make fuzz       run the libFuzzer targets (FUZZ_SECONDS=N each)
#   make install    PREFIX=/usr/local DESTDIR=
#   V=1             show the commands

VERSION := 0.1.0
PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc

# make check and make demo need nothing typed first on a fresh machine:
# they install what is missing (tools/deps.sh; it only checks when all is
# there, and prints the sudo line when not root).
ifneq ($(filter check check-asan check-slow,$(MAKECMDGOALS)),)
ifneq ($(shell sh tools/deps.sh >&2 && echo ok),ok)
$(error the test dependencies are missing: see the line above)
endif
endif

PKGS := ncursesw libcurl libcjson libssh2 sqlite3 libpq libcmark-gfm yaml-0.1 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcmark-gfm-extensions
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# A missing library is named with the command that installs it, before
# the compiler stops at a header it cannot find.
NO_DEPS_GOALS := deps demo demo-stop clean
ifneq ($(or $(MAKECMDGOALS),all),$(filter $(NO_DEPS_GOALS),$(MAKECMDGOALS)))
ifeq ($(shell command -v pkg-config),)
$(error pkg-config is missing: run make deps (as root) to install the build dependencies)
endif
NEEDED_PKGS := $(PKGS) $(if $(filter check check-asan tests,$(MAKECMDGOALS)),cmocka)
MISSING_PKGS := $(shell for p in $(NEEDED_PKGS); do pkg-config --exists $$p || echo $$p; done)
ifneq ($(MISSING_PKGS),)
$(error missing libraries: $(MISSING_PKGS): run make deps (as root) to install them)
endif
endif

# A strict set in the spirit of git's DEVELOPER=1.
WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
	-Wvla \
	-Wimplicit-fallthrough -Wundef -Wwrite-strings -Wcast-qual \
	-Wnull-dereference -Wduplicated-cond -Wlogical-op
OPT ?= -O2 -g
SAN ?=
CPPFLAGS += -I. -D_GNU_SOURCE -DQRH_VERSION='"$(VERSION)"'
ALL_CFLAGS := -std=c17 $(OPT) $(WARNINGS) $(SAN) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(SAN) $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_DIRS := util runbooks actions state
LIB_SRC := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
TUI_SRC := $(sort $(wildcard tui/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TUI_OBJ := $(TUI_SRC:%.c=$(BUILD)/%.o)
TUI_LIB_OBJ := $(filter-out $(BUILD)/tui/main.o,$(TUI_OBJ))
LIBQRH := $(BUILD)/libqrh.a
BIN := $(BUILD)/qrh

TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_SRC := $(sort $(wildcard tests/unit/support_*.c))
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(BUILD)/%.o)

# Benchmark programs: bench/NAME.c becomes $(BUILD)/bench/NAME, run by
# bench/NAME.sh.
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all check check-asan check-slow deps fuzz install clean bench demo demo-stop tests
.SECONDARY:
all: qrh

qrh: $(BIN)
	$(Q)cp $(BIN) qrh.tmp && mv -f qrh.tmp qrh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBQRH): $(LIB_OBJ) $(TUI_LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/tui/main.o $(LIBQRH)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_SUPPORT_OBJ) $(LIBQRH)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# bench/tasks drives the engine with the tests' scripted action kind.
$(BUILD)/bench/tasks: $(BUILD)/tests/unit/support_fake_action.o
$(BENCH_BIN): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBQRH)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# helper programs of the shell tests (tests/servers/*.c)
TEST_TOOL_SRC := $(sort $(wildcard tests/servers/*.c))
TEST_TOOLS := $(TEST_TOOL_SRC:tests/servers/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: $(BUILD)/tests/servers/%.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

tests: $(TEST_BIN) $(TEST_TOOLS) $(BIN)

check: tests
	$(Q)QRH_BIN=$(abspath $(BIN)) QRH_BUILD=$(abspath $(BUILD)) QRH_SANITIZE=$(QRH_SANITIZE) tests/run.sh

# The crash campaign of make check, at length: kill -9 at random moments
# of runs and of the resumes that continue them (tests/integration/crash.sh).
CRASH_KILLS ?= 240
check-slow: tests
	$(Q)QRH_BIN=$(abspath $(BIN)) QRH_BUILD=$(abspath $(BUILD)) QRH_SRC=$(abspath .) \
		QRH_CRASH_KILLS=$(CRASH_KILLS) bash tests/integration/crash.sh

check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all' QRH_SANITIZE=1 check

deps:
	$(Q)sh tools/deps.sh

FUZZ_SECONDS ?= 60
fuzz:
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

bench: qrh $(BENCH_BIN)
	$(Q)sh bench/run.sh

# The failover drill in the console against the DR sandbox, installing
# what is missing first (tools/demo.sh); the sandbox stays up afterwards
# for another try, demo-stop takes it down.
demo:
	$(Q)MAKE="$(MAKE)" sh tools/demo.sh

demo-stop:
	$(Q)if [ -x qrh ]; then ./qrh sandbox down; else sh sandbox/sandbox.sh down; fi

install: qrh
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 qrh $(DESTDIR)$(PREFIX)/bin/qrh
	install -m 0644 man/qrh.1 $(DESTDIR)$(PREFIX)/share/man/man1/qrh.1
	install -m 0644 man/qrh-runbook.5 $(DESTDIR)$(PREFIX)/share/man/man5/qrh-runbook.5

clean:
	rm -rf build build-asan build-fuzz qrh

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
