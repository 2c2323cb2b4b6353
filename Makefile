# Thin wrapper over Meson/Ninja: the targets a new user types.
#   make          build build/drover
#   make run      a local cluster (master + 2 workers) with the shell
#   make test     everything: unit tests (sanitizers, valgrind), fuzz corpora,
#                 system tests against the sanitizer build
#   make deps     install the Debian 12 packages all of this needs
#   make bench    the benchmarks in bench/
#   make fuzz     each fuzz target for FUZZ_SECONDS (default 60)
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON      ?= meson
PYTEST     ?= /usr/bin/python3 -m pytest
WORKERS    ?= 2
FUZZ_SECONDS ?= 60

# Debian 12 packages the build, the tests and `make run` need.
DEPS = build-essential meson ninja-build pkg-config clang libclang-rt-14-dev \
       valgrind libzmq3-dev libczmq-dev libjansson-dev libmicrohttpd-dev \
       libcurl4-openssl-dev libedit-dev libncurses-dev libsodium-dev libsqlite3-dev libcmocka-dev \
       libelf-dev python3-pytest iproute2 procps prometheus chromium

FUZZ_TARGETS = msg args jsonbody procfs signame elfdeps workerstate supmsg
FUZZ_EXTRA_procfs = src/worker/procfs.c
FUZZ_EXTRA_args = src/cli/args.c
FUZZ_EXTRA_elfdeps = src/cli/elfdeps.c
FUZZ_LIBS_elfdeps = -lelf
FUZZ_EXTRA_workerstate = src/worker/workerstate.c src/worker/procfs.c
FUZZ_EXTRA_supmsg = src/worker/supmsg.c
FUZZ_COMMON = $(wildcard src/common/*.c)
FUZZ_PKGS = libzmq libczmq jansson libsodium
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -D_GNU_SOURCE -DDROVER_VERSION='"fuzz"' \
	-Isrc $(shell pkg-config --cflags $(FUZZ_PKGS))
FUZZ_LIBS = $(shell pkg-config --libs $(FUZZ_PKGS))

.PHONY: all deps build asan test unit unit-asan unit-valgrind system \
	system-asan run bench fuzz fuzz-build fuzz-corpus clean

all: build

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "all build dependencies are installed"; fi
	@# The browser test's driver, playwright-core, pinned in tests/e2e's
	@# package-lock.json (node_modules is not in git). npm comes with
	@# Debian's npm package, or with a nodesource nodejs already installed.
	@command -v npm >/dev/null 2>&1 || { echo "installing: nodejs npm"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }
	@if [ tests/e2e/node_modules/.package-lock.json -nt tests/e2e/package-lock.json ]; then \
	  echo "tests/e2e/node_modules is up to date"; \
	else echo "npm ci in tests/e2e"; cd tests/e2e && npm ci --no-audit --no-fund; fi

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dc_args=-fno-sanitize-recover=all

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

unit: build
	$(MESON) test -C $(BUILD) --suite unit --print-errorlogs

unit-asan: asan
	$(MESON) test -C $(ASAN_BUILD) --suite unit --print-errorlogs

# valgrind cannot run under ASan: the plain build's unit tests, once more.
unit-valgrind: build
	$(MESON) test -C $(BUILD) --suite unit --print-errorlogs \
	  --wrapper 'valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q'

system: build
	DROVER_BIN=$(abspath $(BUILD))/drover $(PYTEST) -q tests/system

# The system tests against the sanitizer build: any ASan, UBSan or leak
# report makes a daemon exit non-zero, which the tests check. ASan keeps
# freed memory in a quarantine (256 MiB by default) to catch use after free;
# 16 MiB still catches it and lets the tests that bound the daemons' memory
# measure drover rather than the quarantine.
system-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:quarantine_size_mb=16 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	DROVER_BIN=$(abspath $(ASAN_BUILD))/drover $(PYTEST) -q tests/system

test: deps
	$(MAKE) build asan fuzz-build
	$(MAKE) unit-asan unit-valgrind fuzz-corpus system-asan

run: deps
	$(MAKE) build
	$(BUILD)/drover dev --workers $(WORKERS)

bench: build
	$(BUILD)/bench/heartbeat-load --workers 10000 --seconds 30 --drover $(BUILD)/drover
	$(BUILD)/bench/launch --drover $(BUILD)/drover
	$(BUILD)/bench/copy --drover $(BUILD)/drover
	$(BUILD)/bench/failover --drover $(BUILD)/drover
	$(BUILD)/bench/sampler --drover $(BUILD)/drover
	$(BUILD)/bench/history-store

$(FUZZ_BUILD)/%: fuzz/%.c $(FUZZ_COMMON) $(wildcard src/*/*.h)
	@mkdir -p $(FUZZ_BUILD)
	clang $(FUZZ_CFLAGS) $< $(FUZZ_COMMON) $(FUZZ_EXTRA_$*) -o $@ $(FUZZ_LIBS) \
	  $(FUZZ_LIBS_$*)

fuzz-build: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))

# Each target over its checked-in corpus once: fast and deterministic.
fuzz-corpus: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz corpus: $$t ($$(ls fuzz/corpus/$$t | wc -l) inputs)"; \
	  $(FUZZ_BUILD)/$$t -runs=0 fuzz/corpus/$$t 2>$(FUZZ_BUILD)/$$t.log || \
	    { cat $(FUZZ_BUILD)/$$t.log; exit 1; }; \
	  grep -E "^(INFO: )?Done" $(FUZZ_BUILD)/$$t.log || true; \
	done

# Real fuzzing: new inputs go to a scratch copy, crashes to $(FUZZ_BUILD)/.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_BUILD)/corpus-$$t; cp -r fuzz/corpus/$$t $(FUZZ_BUILD)/corpus-$$t; \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $(FUZZ_BUILD)/corpus-$$t \
	    2>&1 | grep -E '^(Done|==|SUMMARY)' || true; \
	  test -z "$$(ls $(FUZZ_BUILD)/crash-$$t-* 2>/dev/null)" || \
	    { echo "$$t: crash found, see $(FUZZ_BUILD)/crash-$$t-*"; exit 1; }; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
