# qgate: the two commands a newcomer needs, and a few more.
#
#   make run     install missing Debian packages, build, start qgate on
#                127.0.0.1:19002 with the demo SQLite database
#   make test    the same set-up, then every test: the normal build and the
#                ASan+UBSan build, each through ctest
#
# Thin on purpose: CMake builds, ctest tests, scripts/ sets up.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
ARGS       ?=
CTEST_ARGS ?=

PREFIX     ?= /usr/local

.PHONY: all build run install test test-fast test-asan test-tsan bench fuzz format clean deps-build deps-test

all: build

deps-build:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

build: deps-build
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/qgate $(ARGS)

# The binary into $(PREFIX)/bin, example config, unit and nginx files into
# $(PREFIX)/share/qgate, docs into $(PREFIX)/share/doc/qgate.
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

# Every test, twice: plain and under ASan+UBSan.
test: deps-test
	@scripts/test.sh $(BUILD) ""
	@scripts/test.sh $(ASAN_BUILD) address

test-fast: deps-test
	@scripts/test.sh $(BUILD) ""

test-asan: deps-test
	@scripts/test.sh $(ASAN_BUILD) address

test-tsan: deps-test
	@scripts/test.sh $(TSAN_BUILD) thread

bench:
	@scripts/deps.sh bench
	@bench/run.sh

fuzz: deps-test
	@scripts/fuzz.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-fuzz
