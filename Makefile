# SPDX-License-Identifier: MIT
# fkworker: one non-recursive Makefile.
#   make            build fkworker, fkworkerctl, fkbroker, the example plugin and the tests' DNS stand-in
#   make check      install missing packages, build, run unit and integration tests
#   make demo       run the end-to-end demo against fkbroker
#   make SANITIZE=address,undefined check    the same under sanitizers (build-san/)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (60)
#   make fuzz-replay  build the libFuzzer targets, run each one's corpus once (check does)
#   make bench      worker benchmark; make bench-broker: broker benchmark
#   make mutants    deliberate breakages (tests/mutants) the tests must catch (M=name: one)

CC	?= cc
PREFIX	?= /usr
DESTDIR	?=
PKGS	:= libconfig msgpack jansson openssl libsystemd libmicrohttpd
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
CFLAGS	?= -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(OPT) \
	     -Icommon -Iworker -Isupervisor -MMD -MP $(PKG_CFLAGS)
# --as-needed: only fkworkerctl's top uses ncurses; fkworker does not load it.
ALL_LDFLAGS = $(LDFLAGS) -Wl,--as-needed $(if $(SANITIZE),-fsanitize=$(SANITIZE))
# ncurses for fkworkerctl top: linked, but its cflags (feature macros) stay out of the build.
CURSES_LIBS = $(shell pkg-config --libs ncursesw 2>/dev/null)
LIBS	= $(PKG_LIBS) $(CURSES_LIBS) -ldl -lm

COMMON_SRC := $(wildcard common/*.c)
WORKER_SRC := $(wildcard worker/*.c)
SUP_SRC    := $(filter-out supervisor/main.c supervisor/fkworkerctl.c, $(wildcard supervisor/*.c))
BROKER_SRC := $(filter-out tests/broker/main.c, $(wildcard tests/broker/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNITLIB_SRC := $(wildcard tests/unit/unit_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIBCOMMON := $(B)/libcommon.a
LIBWORKER := $(B)/libworker.a
LIBSUP    := $(B)/libsup.a
LIBBROKER := $(B)/libbroker.a
LIBUNIT   := $(B)/libunit.a
UNIT_BIN  := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))
PLUGINS   := $(patsubst worker/examples/%.c,$(B)/plugins/%.so,$(wildcard worker/examples/*.c))

BINS := $(B)/fkworker $(B)/fkworkerctl $(B)/fkbroker $(B)/fkcli

.PHONY: all setup check unit integration interop valgrind fuzz fuzz-build bench bench-broker \
	demo install clean distclean deb mutants
.DEFAULT_GOAL := all

# The tests' stand-in for DNS (LD_PRELOAD), see tests/tools/fakedns.c.
FAKEDNS := $(B)/fakedns.so

all: $(BINS) $(PLUGINS) $(FAKEDNS)

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

# The plugin API lives in the executable and plugins resolve it at dlopen; only
# the symbols of worker/fkworker.h are exported, so a plugin's own functions
# can never be replaced by ours of the same name.
EXPORTS := -Wl,--dynamic-list=worker/fkworker.sym
$(B)/fkworker: $(call obj,supervisor/main.c) $(LIBSUP) $(LIBWORKER) $(LIBCOMMON) worker/fkworker.sym
	$(CC) $(ALL_LDFLAGS) $(EXPORTS) -o $@ $(filter %.o %.a,$^) $(LIBS)
$(B)/fkworkerctl: $(call obj,supervisor/fkworkerctl.c) $(LIBSUP) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
$(B)/fkbroker: $(call obj,tests/broker/main.c) $(LIBBROKER) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/fkcli: $(call obj,tests/tools/fkcli.c) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(FAKEDNS): tests/tools/fakedns.c
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(OPT) -fPIC -shared -o $@ $< -ldl

$(B)/rtt_floor: tests/bench/rtt_floor.c
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) -O2 -o $@ $<

$(B)/plugins/%.so: worker/examples/%.c worker/fkworker.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(OPT) -Iworker -fPIC -shared \
		$(if $(SANITIZE),-fsanitize=$(SANITIZE)) -o $@ $<

# Each unit test is one tests/unit/test_*.c; the helpers they share
# (tests/unit/unit_*.c) are an archive linked before the others.
$(LIBUNIT): $(call obj,$(UNITLIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(B)/unit/%: tests/unit/%.c $(LIBUNIT) $(LIBSUP) $(LIBWORKER) $(LIBBROKER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/broker $(EXPORTS) -o $@ $(filter %.c %.a,$^) $(ALL_LDFLAGS) \
		$(CHECK_LIBS) $(LIBS)

unit: $(UNIT_BIN) $(BINS) $(PLUGINS)
	@sh tests/unit/run.sh $(B) $(UNIT_BIN)

integration: $(BINS) $(PLUGINS)
	@sh tests/integration/run.sh $(B)

check: setup
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory integration

# Reliability drills 1, 2 and 7 under valgrind (a plain build; CI runs it too).
valgrind: $(BINS) $(PLUGINS)
	@sh tests/valgrind/run.sh $(B)

# Mutation testing: each tests/mutants/*.mut breaks a promise on purpose in a scratch
# copy; the tests meant to catch it must fail (M=name runs one).
mutants: $(BINS) $(PLUGINS)
	@bash tests/mutants/run.sh $(B) $(M)

interop: $(BINS)
	@sh tests/interop/run.sh $(B)

# ---- fuzzing (clang, libFuzzer) ----
# Always in build-fuzz/ (SANITIZE does not change it). Each source is compiled
# once (with header dependencies) and linked into every target. Sanitizer
# reports are fatal, as in the SANITIZE builds: a UBSan report that only
# printed would neither stop fuzzing nor fail a replay.
FUZZ_SECONDS ?= 60
FUZZ_B := build-fuzz
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	      -fno-sanitize-recover=all -Icommon -Iworker -Isupervisor $(PKG_CFLAGS)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(FUZZ_B)/%,$(FUZZ_SRC))
FUZZ_OBJ := $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(COMMON_SRC) $(WORKER_SRC) $(SUP_SRC))

$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_BIN): $(FUZZ_B)/%: $(FUZZ_B)/obj/tests/fuzz/%.o $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) $(CURSES_LIBS) -ldl -lm

.PHONY: fuzz-replay
fuzz-build: $(FUZZ_BIN)
fuzz: setup fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)
# Each target's corpus (tests/fuzz/corpus/NAME/) run once, no fuzzing: part of check.
fuzz-replay: fuzz-build
	@sh tests/fuzz/replay.sh $(FUZZ_BIN)

# ---- benchmarks and demo ----
bench: all $(B)/rtt_floor
	@bash tests/bench/bench.sh $(B)
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

# ---- install, uninstall, deb, man-check (systemd/, packaging/) ----
#   make install [PREFIX=/usr] [DESTDIR=]   fkworker, fkworkerctl, the config (kept if
#                                            present), unit, sysusers, header, .pc, man pages
#   make deb        Debian package from a temporary copy (dpkg-buildpackage), lintian,
#                   output in $(B)/deb/
#   make man-check  mandoc -T lint and man --warnings on the pages: silent when clean
VERSION      := $(shell sed -n 's/.*SUP_VERSION[[:space:]]*"\([^"]*\)".*/\1/p' supervisor/sup.h)
BINDIR       ?= $(PREFIX)/bin
SBINDIR      ?= $(PREFIX)/sbin
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
DOCDIR       ?= $(PREFIX)/share/doc/fkworker
PKGCONFIGDIR ?= $(PREFIX)/share/pkgconfig
PLUGINDIR    ?= $(PREFIX)/lib/fkworker/plugins
SYSCONFDIR   ?= /etc
UNITDIR      ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR  ?= $(PREFIX)/lib/sysusers.d
MANPAGES     := packaging/man/fkworker.8 packaging/man/fkworkerctl.8 packaging/man/fkworker.conf.5

.PHONY: uninstall man-check

install: $(B)/fkworker $(B)/fkworkerctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(PLUGINDIR)
	install -m 0755 $(B)/fkworker $(DESTDIR)$(SBINDIR)/fkworker
	install -m 0755 $(B)/fkworkerctl $(DESTDIR)$(BINDIR)/fkworkerctl
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/fkworker.conf ]; then \
		echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/fkworker.conf"; \
	else \
		echo "install -m 0644 conf/fkworker.conf $(DESTDIR)$(SYSCONFDIR)/fkworker.conf"; \
		install -m 0644 conf/fkworker.conf $(DESTDIR)$(SYSCONFDIR)/fkworker.conf; \
	fi
	sed -e 's|/usr/sbin/fkworker|$(SBINDIR)/fkworker|g' \
		-e 's|/usr/bin/fkworkerctl|$(BINDIR)/fkworkerctl|g' -e 's|/etc/|$(SYSCONFDIR)/|g' \
		systemd/fkworker.service >$(DESTDIR)$(UNITDIR)/fkworker.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/fkworker.service
	install -m 0644 systemd/fkworker.sysusers $(DESTDIR)$(SYSUSERSDIR)/fkworker.conf
	install -m 0644 worker/fkworker.h $(DESTDIR)$(INCLUDEDIR)/fkworker.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
		packaging/fkworker.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/fkworker.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/fkworker.pc
	install -m 0644 packaging/man/fkworker.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 packaging/man/fkworker.8 packaging/man/fkworkerctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 worker/examples/example.c $(DESTDIR)$(DOCDIR)/examples/

# The configuration stays: it may hold the host's settings.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fkworker $(DESTDIR)$(BINDIR)/fkworkerctl \
		$(DESTDIR)$(UNITDIR)/fkworker.service $(DESTDIR)$(SYSUSERSDIR)/fkworker.conf \
		$(DESTDIR)$(INCLUDEDIR)/fkworker.h $(DESTDIR)$(PKGCONFIGDIR)/fkworker.pc \
		$(DESTDIR)$(MANDIR)/man5/fkworker.conf.5 $(DESTDIR)$(MANDIR)/man8/fkworker.8 \
		$(DESTDIR)$(MANDIR)/man8/fkworkerctl.8 $(DESTDIR)$(DOCDIR)/examples/example.c
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PLUGINDIR) \
		$(DESTDIR)$(PREFIX)/lib/fkworker 2>/dev/null
	@echo "uninstall: $(DESTDIR)$(SYSCONFDIR)/fkworker.conf left in place"

# Built from a copy of the sources with packaging/debian as debian/, so the tree stays clean.
deb:
	@for t in dpkg-buildpackage dh lintian; do command -v $$t >/dev/null || \
		{ echo "deb: $$t is missing; 'make setup' installs it" >&2; exit 1; }; done
	@set -e; t=$$(mktemp -d /tmp/fkworker-deb.XXXXXX); trap 'rm -rf "$$t"' EXIT; \
	s="$$t/fkworker-$(VERSION)"; mkdir "$$s"; \
	tar -cf - Makefile README.md common worker supervisor conf systemd packaging | tar -xf - -C "$$s"; \
	cp -R packaging/debian "$$s/debian"; \
	echo "deb: dpkg-buildpackage -b in $$s"; \
	mkdir -p $(B)/deb; rm -f $(B)/deb/*; \
	if ! (cd "$$s" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b -Jauto) >$(B)/deb/build.log 2>&1; then \
		tail -n 40 $(B)/deb/build.log; echo "deb: failed; see $(B)/deb/build.log" >&2; exit 1; \
	fi; \
	cp "$$t"/*.deb "$$t"/*.changes "$$t"/*.buildinfo $(B)/deb/; \
	cp "$$t"/*.ddeb $(B)/deb/ 2>/dev/null || true; \
	ls $(B)/deb/*.deb; \
	echo "deb: lintian (overrides explained in packaging/debian/fkworker.lintian-overrides)"; \
	rc=0; lintian --info --display-info --pedantic --fail-on error,warning $(B)/deb/*.changes >$(B)/deb/lintian.txt 2>&1 || rc=$$?; \
	cat $(B)/deb/lintian.txt; [ $$rc -eq 0 ] || { echo "deb: lintian found problems" >&2; exit $$rc; }

man-check:
	@set -e; for p in $(MANPAGES); do \
		mandoc -T lint -W warning $$p || exit 1; \
		w=$$(LC_ALL=C.UTF-8 MANROFFSEQ= MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z $$p 2>&1 >/dev/null); \
		[ -z "$$w" ] || { echo "$$p: $$w"; exit 1; }; \
	done; echo "man-check: $(MANPAGES) clean"

# ---- fkbroker's own tools: transcript replayer, pipelined load generator ----
$(B)/fkreplay: $(call obj,tests/broker/replay/fkreplay.c) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
$(B)/fkloadgen: $(call obj,tests/bench/loadgen.c) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
integration: $(B)/fkreplay
bench-broker: $(B)/fkloadgen
