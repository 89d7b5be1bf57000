# rkt — a hardened App Container runtime in C.  GNU make >= 4.
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBEXECDIR  ?= $(PREFIX)/libexec/rkt
MANDIR      ?= $(PREFIX)/share/man
VENDORDIR   ?= $(PREFIX)/lib/rkt
VERSION     := 0.1.0

CC          ?= gcc
FUZZ_CC     ?= clang
PKG_CONFIG  ?= pkg-config
FUZZ_SECONDS ?= 30

# Hardened by default. SANITIZE=address,undefined builds into its own directory, so switching
# never mixes objects.
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-security -Wvla \
           -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation
HARDEN  := -fstack-protector-strong -fstack-clash-protection -fPIE -fcf-protection
LDHARD  := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
ifeq ($(SANITIZE),)
BUILD   ?= build
OPT     := -O2 -g -D_FORTIFY_SOURCE=3
else
BUILD   ?= build-san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
LDHARD  += -fsanitize=$(SANITIZE)
endif

LIBS_PC := jansson libarchive libcrypto gpgme sqlite3 libcap libseccomp libselinux libmnl \
           libnftables
# libcurl is not linked: src/lib/fetch/http.c loads it with dlopen on first use.
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
PC_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null)

CPPFLAGS += -Isrc/lib -Isrc -D_GNU_SOURCE -DRKT_VERSION='"$(VERSION)"' \
            -DRKT_LIBEXECDIR='"$(LIBEXECDIR)"' -DRKT_VENDORDIR='"$(VENDORDIR)"'
CFLAGS   ?=
ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(OPT) $(PC_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDHARD) $(LDFLAGS)

BASE_SRC  := $(wildcard src/lib/base/*.c)
LIB_SRC   := $(filter-out $(BASE_SRC),$(wildcard src/lib/*/*.c))
CLI_SRC   := $(wildcard src/cli/*.c)
STAGE1_SRC := $(wildcard src/stage1/*.c src/stage1/*/*.c)
UNIT_SRC  := $(wildcard tests/unit/test-*.c)
TOOL_SRC  := $(wildcard tests/tools/*.c)
FUZZ_SRC  := $(wildcard fuzz/fuzz-*.c)
FUZZ_NAMES := $(patsubst fuzz/%.c,%,$(FUZZ_SRC))

BASE_OBJ  := $(BASE_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
STAGE1_OBJ := $(STAGE1_SRC:%.c=$(BUILD)/%.o)

RKT        := $(BUILD)/rkt
STAGE1     := $(if $(STAGE1_SRC),$(BUILD)/rkt-stage1)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay-%)
FUZZ_BIN   := $(FUZZ_NAMES:%=build-fuzz/%)
MAN_SRC    := $(wildcard man/*.scd)
MAN_OUT    := $(MAN_SRC:man/%.scd=$(BUILD)/man/%)

Q := @
ifeq ($(V),1)
Q :=
endif

.PHONY: all tests tools man check check-unit check-integration demo install uninstall deps \
        fuzz fuzz-smoke format format-check clean help bench

all: $(RKT) $(STAGE1) man

help:
	@echo "make [all]        build rkt (stage0) and the man pages into $(BUILD)/"
	@echo "make check        install deps, build, run unit + fuzz-replay + integration tests"
	@echo "make demo         build a busybox ACI, validate it, print its manifest and image ID"
	@echo "make fuzz         build libFuzzer targets (clang) into build-fuzz/"
	@echo "make fuzz-smoke   run each fuzz target for FUZZ_SECONDS (default $(FUZZ_SECONDS))"
	@echo "make SANITIZE=address,undefined ...   sanitizer build in build-san/"
	@echo "make install DESTDIR= PREFIX=$(PREFIX)"
	@echo "make format | format-check | bench | clean"

deps:
	$(Q)sh scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The default seccomp profile is built into stage0 (.incbin in src/lib/pod/seccomp.c).
$(BUILD)/src/lib/pod/seccomp.o: profiles/seccomp-default.json
$(BUILD)/src/lib/pod/seccomp-set.o: profiles/seccomp-groups.txt

$(BUILD)/librkbase.a: $(BASE_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/librkt.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

LINK_LIBS = $(BUILD)/librkt.a $(BUILD)/librkbase.a $(PC_LIBS)

$(RKT): $(CLI_OBJ) $(BUILD)/librkt.a $(BUILD)/librkbase.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(LINK_LIBS) $(ALL_LDFLAGS)

# Stage1 links lib/base and the isolator libraries only: no archive, HTTP, OpenPGP or SQL code
# in the process that builds the pod.
STAGE1_LIBS := $(shell $(PKG_CONFIG) --libs jansson libcrypto libcap libseccomp libselinux libmnl 2>/dev/null)
# It writes the pod's exit record: the audit log's writer comes along.
STAGE1_AUDIT := $(BUILD)/src/lib/audit/audit.o $(BUILD)/src/lib/audit/summary.o \
                $(BUILD)/src/lib/pod/cni.o
$(BUILD)/rkt-stage1: $(STAGE1_OBJ) $(STAGE1_AUDIT) $(BUILD)/librkbase.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(STAGE1_OBJ) $(STAGE1_AUDIT) $(BUILD)/librkbase.a $(STAGE1_LIBS) $(ALL_LDFLAGS)

# The test probe runs inside pods: static, no runtime dependencies, so any test image can hold it.
PROBE := $(if $(wildcard tests/probe/probe.c),$(BUILD)/probe)
$(BUILD)/probe: tests/probe/probe.c
	@mkdir -p $(@D)
	@echo "  LD      $@ (static)"
	$(Q)$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<

$(BUILD)/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/librkt.a $(BUILD)/librkbase.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_LIBS) -lcmocka -lseccomp $(ALL_LDFLAGS)

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/librkt.a $(BUILD)/librkbase.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_LIBS) $(ALL_LDFLAGS)

# Fuzz harnesses double as regression tests: linked with a plain main() that replays files.
$(BUILD)/fuzz/replay-%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay.o $(BUILD)/librkt.a $(BUILD)/librkbase.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/fuzz/replay.o $(LINK_LIBS) $(ALL_LDFLAGS)
$(BUILD)/fuzz/replay.o: fuzz/replay/replay.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

tests: $(RKT) $(STAGE1) $(PROBE) man $(UNIT_BIN) $(TOOL_BIN) $(REPLAY_BIN)
tools: $(TOOL_BIN)

man: $(MAN_OUT)
$(BUILD)/man/%: man/%.scd
	@mkdir -p $(@D)
	$(Q)scdoc < $< > $@

# ---- tests ----
# One harness: prove runs cmocka binaries (TAP), fuzz replays and bats files and prints
# "Result: PASS" / "Result: FAIL" at the end.
PROVE := prove --exec tests/tap-exec --timer

check: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined tests
	$(Q)RKT_BUILD=$(BUILD) RKT_SAN_BUILD=build-san $(PROVE) \
	  $(UNIT_BIN) $(UNIT_BIN:$(BUILD)/%=build-san/%) tests/fuzz-replay.sh \
	  $(sort $(wildcard tests/integration/*.bats))
	@echo "== the pod, fetch and isolator suites again, on the sanitizer build (rkt and rkt-stage1)"
	$(Q)RKT_BUILD=build-san $(PROVE) $(sort $(wildcard tests/integration/[5-9]*.bats))

check-unit: tests
	$(Q)RKT_BUILD=$(BUILD) $(PROVE) $(UNIT_BIN) tests/fuzz-replay.sh
check-integration: tests
	$(Q)RKT_BUILD=$(BUILD) $(PROVE) $(sort $(wildcard tests/integration/*.bats))

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)RKT=$(RKT) sh scripts/demo.sh

bench: all
	$(Q)sh bench/run.sh
	$(Q)RKT=$(abspath $(RKT)) sh bench/fetch.sh
	$(Q)RKT=$(abspath $(RKT)) sh bench/start-latency.sh
	$(Q)RKT=$(abspath $(RKT)) sh bench/net.sh
	$(Q)$(MAKE) --no-print-directory $(BUILD)/tools/cni-run
	$(Q)RKT=$(abspath $(RKT)) sh bench/cni.sh

# ---- fuzzing (clang + libFuzzer) ----
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -std=gnu11 $(PC_CFLAGS) -Isrc/lib -Isrc -D_GNU_SOURCE -DRKT_VERSION='"$(VERSION)"' \
              -DRKT_LIBEXECDIR='"$(LIBEXECDIR)"' -DRKT_VENDORDIR='"$(VENDORDIR)"'
FUZZ_LIB_SRC := $(BASE_SRC) $(LIB_SRC)

fuzz: $(FUZZ_BIN)
build-fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC) $(wildcard src/lib/*/*.h)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(PC_LIBS)

fuzz-smoke: deps
	$(Q)$(MAKE) --no-print-directory fuzz
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) sh fuzz/smoke.sh $(FUZZ_NAMES)

# ---- formatting ----
FMT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(Q)clang-format -i $(FMT_FILES)
format-check:
	$(Q)clang-format --dry-run --Werror $(FMT_FILES)

# ---- install ----
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(VENDORDIR)
	install -m 0755 $(RKT) $(DESTDIR)$(BINDIR)/rkt
	[ -z "$(STAGE1)" ] || install -m 0755 $(STAGE1) $(DESTDIR)$(LIBEXECDIR)/rkt-stage1
	install -m 0644 $(MAN_OUT) $(DESTDIR)$(MANDIR)/man1/
	cp -R trust $(DESTDIR)$(VENDORDIR)/
	install -d $(DESTDIR)$(VENDORDIR)/profiles
	for f in profiles/*; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(VENDORDIR)/profiles/; done; true
	[ ! -f policy/policy.json ] || install -m 0644 policy/policy.json $(DESTDIR)$(VENDORDIR)/policy.json

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/rkt $(MAN_OUT:$(BUILD)/man/%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(VENDORDIR)

clean:
	rm -rf build build-san build-fuzz fuzz/out

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
