# qgate: the two commands a newcomer needs, and a few more.
#
#   make run     install missing Debian packages, build, start qgate on
#                127.0.0.1:19002 with the demo SQLite database
#   make test    the test set-up, a check that every build type builds with
#                gcc and clang, then every test: the test build and the
#                ASan+UBSan build, each through ctest
#
# Thin on purpose: CMake builds, ctest tests, scripts/ sets up.

BUILD      ?= build
TEST_BUILD ?= build-test
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
ARGS       ?=
CTEST_ARGS ?=

PREFIX     ?= /usr/local

.PHONY: all build run install test test-fast test-asan test-tsan check-build bench fuzz format clean \
        deps-build deps-test

all: build

deps-build:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

# The run build: no test suite (so no test packages), warnings not fatal
# (a newer compiler's new warning must not stop a user's build; the
# project's own test builds keep -Werror).
build: deps-build
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQGATE_TESTS=OFF \
	       -DQGATE_WERROR=OFF >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/qgate $(ARGS)

# The binary into $(PREFIX)/bin, example config, unit and nginx files into
# $(PREFIX)/share/qgate, docs into $(PREFIX)/share/doc/qgate.
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

# The build check (scripts/check-build.sh), then every test, twice: plain
# and under ASan+UBSan.
test: deps-test
	@scripts/check-build.sh
	@scripts/test.sh $(TEST_BUILD) ""
	@scripts/test.sh $(ASAN_BUILD) address

test-fast: deps-test
	@scripts/test.sh $(TEST_BUILD) ""

check-build: deps-test
	@scripts/check-build.sh

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
	rm -rf $(BUILD) $(TEST_BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-fuzz build-check
