# The real build, run by the top-level Makefile once dependencies exist.
.SECONDEXPANSION:
BUILD ?= build
SANITIZE ?= 0
PREFIX ?= /usr/local
DESTDIR ?=

ifeq ($(SANITIZE),1)
OUT := $(BUILD)/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
OUT := $(BUILD)/out
SANFLAGS :=
endif

LIBPERF := $(BUILD)/libperf
ifeq ($(V),1)
Q :=
MSG := @true
else
Q := @
MSG := @printf '  %-6s %s\n'
endif
VERSION := $(shell sed -n 's/^\#define PYPERF_VERSION_STRING "\(.*\)"/\1/p' libpyperf/include/pyperf/pyperf.h)
SOMAJOR := 0

CC ?= gcc
OPT ?= -O2 -g
PKGS := libelf libdw libtraceevent jansson zlib
HAVE_ZSTD := $(shell pkg-config --exists libzstd && echo 1)
ifeq ($(HAVE_ZSTD),1)
PKGS += libzstd
ZSTD_DEF := -DHAVE_ZSTD
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))

WARN := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers -Wno-format-truncation
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARN) $(SANFLAGS) -D_GNU_SOURCE
LIB_CFLAGS := $(BASE_CFLAGS) -fPIC -fvisibility=hidden -Ilibpyperf/include -Ilibpyperf/src \
	-I$(LIBPERF)/include $(PKG_CFLAGS) $(ZSTD_DEF)
# Tools see the public headers only: reaching into src/ fails to compile.
TOOL_CFLAGS := $(BASE_CFLAGS) -Ilibpyperf/include
TEST_CFLAGS := $(BASE_CFLAGS) -Ilibpyperf/include -Ilibpyperf/src -Itests/unit $(PKG_CFLAGS)
LIBS := $(LIBPERF)/lib/libperf.a $(LIBPERF)/lib/libapi.a $(PKG_LIBS) -lpthread -lm
LDFLAGS_ALL := $(SANFLAGS)

LIB_SRCS := $(sort $(wildcard libpyperf/src/*.c))
LIB_OBJS := $(patsubst libpyperf/src/%.c,$(OUT)/obj/lib/%.o,$(LIB_SRCS))
HDRS := $(wildcard libpyperf/include/pyperf/*.h libpyperf/src/*.h)

STATIC := $(OUT)/lib/libpyperf.a
SHARED := $(OUT)/lib/libpyperf.so.$(VERSION)
SONAME := libpyperf.so.$(SOMAJOR)

TOOLS := $(OUT)/bin/pyperf-report $(OUT)/bin/pyperf-record
TOOL_SRCS = $(wildcard tools/$(1)/*.c)

UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_STATIC := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
UNIT_SHARED := $(patsubst tests/unit/%.c,$(OUT)/tests/%-shared,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(OUT)/tests/%-replay,$(FUZZ_SRCS))
HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
HELPERS := $(patsubst tests/helpers/%.c,$(OUT)/tests/helpers/%,$(HELPER_SRCS))

# The perf_trampoline Python package, one extension per CPython 3.8-3.11
# found here. Not in sanitizer builds: Python would need the runtime preloaded.
ifeq ($(SANITIZE),1)
PYTHON :=
else
PYTHON := $(OUT)/python/.stamp
endif
PYTHON_SRCS := $(wildcard libpyperf/python/*.c libpyperf/python/*.py libpyperf/python/*/*.py)

.PHONY: all test-bins fuzzers install
all: $(STATIC) $(SHARED) $(OUT)/lib/libpyperf.so $(TOOLS) $(OUT)/lib/pkgconfig/libpyperf.pc $(PYTHON)

$(OUT)/obj/lib/%.o: libpyperf/src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(MSG) CC $@
	$(Q)$(CC) $(LIB_CFLAGS) -c -o $@ $<

# The static archive carries libperf's and libapi's objects too, so that
# users link one archive plus the system libraries.
$(STATIC): $(LIB_OBJS) $(LIBPERF)/lib/libperf.a
	@mkdir -p $(dir $@) $(OUT)/obj/libperf
	@rm -f $@ $(OUT)/obj/libperf/*.o
	@cd $(OUT)/obj/libperf && ar x $(abspath $(LIBPERF)/lib/libperf.a) && ar x $(abspath $(LIBPERF)/lib/libapi.a)
	$(MSG) AR $@
	$(Q)ar rcs $@ $(LIB_OBJS) $(OUT)/obj/libperf/*.o

$(SHARED): $(LIB_OBJS) libpyperf/libpyperf.map
	@mkdir -p $(dir $@)
	$(MSG) LD $@
	$(Q)$(CC) -shared $(LDFLAGS_ALL) -Wl,-soname,$(SONAME) -Wl,--version-script=libpyperf/libpyperf.map \
		-o $@ $(LIB_OBJS) $(LIBS)

$(OUT)/lib/libpyperf.so: $(SHARED)
	$(Q)ln -sf libpyperf.so.$(VERSION) $(OUT)/lib/$(SONAME)
	$(Q)ln -sf $(SONAME) $@

$(OUT)/lib/pkgconfig/libpyperf.pc: libpyperf/libpyperf.pc.in libpyperf/include/pyperf/pyperf.h
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@REQUIRES@|$(PKGS)|' $< > $@

$(OUT)/bin/%: $(STATIC) $(HDRS) $$(call TOOL_SRCS,%)
	@mkdir -p $(dir $@)
	$(MSG) LD $@
	$(Q)$(CC) $(TOOL_CFLAGS) -o $@ $(call TOOL_SRCS,$*) $(LDFLAGS_ALL) $(STATIC) $(PKG_LIBS) -lpthread -lm

$(OUT)/python/.stamp: $(PYTHON_SRCS) $(STATIC) mk/python.sh
	$(Q)mk/python.sh $(OUT) $(STATIC)
	@touch $@

test-bins: $(UNIT_STATIC) $(UNIT_SHARED) $(FUZZ_REPLAY) $(HELPERS)

# Unit tests see internal headers (they test internal modules) and link the
# static archive; the -shared variants link libpyperf.so and use only what
# it exports, which also checks the version script.
$(OUT)/tests/test-%: tests/unit/test-%.c tests/unit/check.h $(STATIC)
	@mkdir -p $(dir $@)
	$(MSG) LD $@
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< $(LDFLAGS_ALL) $(STATIC) $(PKG_LIBS) -lpthread -lm

$(OUT)/tests/test-%-shared: tests/unit/test-%.c tests/unit/check.h $(OUT)/lib/libpyperf.so
	@mkdir -p $(dir $@)
	$(MSG) LD $@
	$(Q)$(CC) $(TEST_CFLAGS) -DPYPERF_TEST_SHARED -o $@ $< $(LDFLAGS_ALL) -L$(OUT)/lib -lpyperf \
		-Wl,-rpath,$(abspath $(OUT)/lib) $(PKG_LIBS) -lpthread -lm

$(OUT)/tests/fuzz-%-replay: tests/fuzz/fuzz-%.c tests/fuzz/replay.c $(STATIC)
	@mkdir -p $(dir $@)
	$(MSG) LD $@
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< tests/fuzz/replay.c $(LDFLAGS_ALL) $(STATIC) $(PKG_LIBS) -lpthread -lm

$(OUT)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(MSG) CC $@
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls -o $@ $< -lpthread -lm

# libFuzzer builds need clang; the static archive is rebuilt with clang and
# coverage instrumentation in its own folder.
FUZZ_OUT := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -D_GNU_SOURCE \
	-fvisibility=hidden -Ilibpyperf/include -Ilibpyperf/src -I$(LIBPERF)/include $(PKG_CFLAGS) $(ZSTD_DEF)
FUZZ_LIB_OBJS := $(patsubst libpyperf/src/%.c,$(FUZZ_OUT)/obj/%.o,$(LIB_SRCS))
FUZZERS := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(FUZZ_SRCS))

fuzzers: $(FUZZERS)

$(FUZZ_OUT)/obj/%.o: libpyperf/src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(MSG) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_OUT)/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(MSG) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/pyperf
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libpyperf.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libpyperf.so
	install -m 644 libpyperf/include/pyperf/*.h $(DESTDIR)$(PREFIX)/include/pyperf/
	rm -rf $(DESTDIR)$(PREFIX)/lib/pyperf/python
	install -d $(DESTDIR)$(PREFIX)/lib/pyperf/python/perf_trampoline
	install -m 644 $(OUT)/python/sitecustomize.py $(DESTDIR)$(PREFIX)/lib/pyperf/python/
	install -m 644 $(OUT)/python/perf_trampoline/* $(DESTDIR)$(PREFIX)/lib/pyperf/python/perf_trampoline/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(PKGS)|' \
		libpyperf/libpyperf.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libpyperf.pc

