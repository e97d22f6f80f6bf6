# pyperf top-level Makefile.
#
#   make            build libpyperf (static + shared) and the tools into build/
#   make test       build normally and with sanitizers, run every test
#   make demo       build, record the bundled Python example, print the report
#   make fuzz       run the fuzzers for a while (FUZZ_SECONDS, default 60 each)
#   make bench      run the benchmarks (writes bench/RESULTS.md)
#   make install    PREFIX=/usr/local (DESTDIR honoured)
#   make SANITIZE=1 build with AddressSanitizer + UndefinedBehaviorSanitizer
#                   (SANITIZE=thread: ThreadSanitizer, into build/tsan)
#
# The first make installs what is missing (Debian packages, as root) and
# builds the kernel's libperf once into build/libperf; later runs reuse both.

BUILD ?= build
PREFIX ?= /usr/local
SANITIZE ?= 0
export BUILD SANITIZE

SUBMAKE = $(MAKE) --no-print-directory -f mk/build.mk

.PHONY: all deps deps-test libperf test test-unit test-integration demo fuzz bench \
	install clean format check-format

all: deps libperf
	@$(SUBMAKE) all

deps:
	@mkdir -p $(BUILD)
	@if [ ! -f $(BUILD)/.deps-build ] || [ mk/deps.sh -nt $(BUILD)/.deps-build ]; then \
		mk/deps.sh build && touch $(BUILD)/.deps-build; fi

deps-test: deps
	@if [ ! -f $(BUILD)/.deps-test ] || [ mk/deps.sh -nt $(BUILD)/.deps-test ]; then \
		mk/deps.sh test && touch $(BUILD)/.deps-test; fi

libperf: deps
	@mk/libperf.sh $(BUILD)/libperf

# The whole suite: unit tests against the static and the shared library,
# the same units built with sanitizers, the fuzz corpus replay (and a short
# fuzzing burst when clang is present), then the integration tests that
# record real programs and compare with perf.
test: deps-test libperf
	@$(SUBMAKE) all test-bins
	@$(MAKE) --no-print-directory SANITIZE=1 -f mk/build.mk all test-bins
	@$(MAKE) --no-print-directory SANITIZE=thread -f mk/build.mk $(BUILD)/tsan/tests/test-threads
	@tests/run.sh

test-unit: deps-test libperf
	@$(SUBMAKE) all test-bins
	@$(MAKE) --no-print-directory SANITIZE=thread -f mk/build.mk $(BUILD)/tsan/tests/test-threads
	@tests/run.sh unit

demo: all
	@examples/demo.sh

fuzz: deps-test libperf
	@$(SUBMAKE) fuzzers
	@tests/fuzz/run.sh long

bench: all
	@bench/run.sh

install: all
	@$(SUBMAKE) install PREFIX=$(PREFIX)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# Everything the build made is under $(BUILD): objects, libraries, tools,
# the sanitizer builds, the generated code, libperf, test logs and caches.
clean:
	@case "$(BUILD)" in ""|.|./|/|..|../) echo "make clean: BUILD=$(BUILD) is not a build folder" >&2; exit 1;; esac
	rm -rf $(BUILD)
