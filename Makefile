# SPDX-License-Identifier: MIT
# fkworker: one non-recursive Makefile.
#   make            build fkworker, fkworkerctl, fkbroker and the example plugin
#   make check      install missing packages, build, run unit and integration tests
#   make demo       run the end-to-end demo against fkbroker
#   make SANITIZE=address,undefined check    the same under sanitizers (build-san/)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (60)
#   make bench      worker benchmark; make bench-broker: broker benchmark

CC	?= cc
PREFIX	?= /usr
DESTDIR	?=
PKGS	:= libconfig msgpack jansson openssl libsystemd
WERROR	?= -Werror
SANITIZE ?=

ifeq ($(SANITIZE),)
B	?= build
OPT	:= -O2
else
B	?= build-san
OPT	:= -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wcast-qual -Wvla -Wimplicit-fallthrough -Wformat=2
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)
CFLAGS	?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(OPT) \
	     -Icommon -Iworker -Isupervisor -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(if $(SANITIZE),-fsanitize=$(SANITIZE))
LIBS	= $(PKG_LIBS) -ldl -lm

COMMON_SRC := $(wildcard common/*.c)
WORKER_SRC := $(wildcard worker/*.c)
SUP_SRC    := $(filter-out supervisor/main.c supervisor/fkworkerctl.c, $(wildcard supervisor/*.c))
BROKER_SRC := $(filter-out tests/broker/main.c, $(wildcard tests/broker/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIBCOMMON := $(B)/libcommon.a
LIBWORKER := $(B)/libworker.a
LIBSUP    := $(B)/libsup.a
LIBBROKER := $(B)/libbroker.a
UNIT_BIN  := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))
PLUGINS   := $(patsubst worker/examples/%.c,$(B)/plugins/%.so,$(wildcard worker/examples/*.c))

BINS := $(B)/fkworker $(B)/fkworkerctl $(B)/fkbroker $(B)/fkcli

.PHONY: all setup check unit integration interop fuzz fuzz-build bench bench-broker \
	demo install clean distclean deb
.DEFAULT_GOAL := all

all: $(BINS) $(PLUGINS)

setup:
	@sh scripts/setup.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBWORKER): $(call obj,$(WORKER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBSUP): $(call obj,$(SUP_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBBROKER): $(call obj,$(BROKER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The plugin API symbols live in the executable, so plugins resolve them at dlopen.
$(B)/fkworker: $(call obj,supervisor/main.c) $(LIBSUP) $(LIBWORKER) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -rdynamic -o $@ $^ $(LIBS)
$(B)/fkworkerctl: $(call obj,supervisor/fkworkerctl.c) $(LIBSUP) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
$(B)/fkbroker: $(call obj,tests/broker/main.c) $(LIBBROKER) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/fkcli: $(call obj,tests/tools/fkcli.c) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/plugins/%.so: worker/examples/%.c worker/fkworker.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(OPT) -Iworker -fPIC -shared \
		$(if $(SANITIZE),-fsanitize=$(SANITIZE)) -o $@ $<

$(B)/unit/%: tests/unit/%.c $(LIBSUP) $(LIBWORKER) $(LIBBROKER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/broker -rdynamic -o $@ $^ $(ALL_LDFLAGS) $(CHECK_LIBS) $(LIBS)

unit: $(UNIT_BIN) $(BINS) $(PLUGINS)
	@sh tests/unit/run.sh $(B) $(UNIT_BIN)

integration: $(BINS) $(PLUGINS)
	@sh tests/integration/run.sh $(B)

check: setup
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

interop: $(BINS)
	@sh tests/interop/run.sh $(B)

# ---- fuzzing (clang, libFuzzer) ----
FUZZ_SECONDS ?= 60
FUZZ_B := build-fuzz
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	      -Icommon -Iworker -Isupervisor $(PKG_CFLAGS)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(FUZZ_B)/%,$(FUZZ_SRC))

$(FUZZ_B)/%: tests/fuzz/%.c $(COMMON_SRC) $(WORKER_SRC) $(SUP_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -ldl -lm

fuzz-build: $(FUZZ_BIN)
fuzz: setup fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# ---- benchmarks and demo ----
bench: all
	@sh tests/bench/bench.sh $(B)
bench-broker: all
	@sh tests/bench/bench-broker.sh $(B)
demo: setup
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh $(B)

clean:
	rm -rf build build-san build-fuzz

distclean: clean
	rm -rf tests/interop/node_modules

-include $(shell find $(B) $(FUZZ_B) -name '*.d' 2>/dev/null)
