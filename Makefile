# Thin wrapper over Meson/Ninja: the targets a new user types.
BUILD    ?= build
MESON    ?= meson
PYTEST   ?= /usr/bin/python3 -m pytest
WORKERS  ?= 2

# Debian 12 packages the build, the tests and `make run` need.
DEPS = build-essential meson ninja-build pkg-config \
       libzmq3-dev libczmq-dev libjansson-dev libmicrohttpd-dev \
       libcurl4-openssl-dev libedit-dev libsodium-dev libcmocka-dev \
       python3-pytest iproute2 curl procps

.PHONY: all deps build test unit system run bench clean

all: build

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "all build dependencies are installed"; fi

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

unit: build
	$(MESON) test -C $(BUILD) --print-errorlogs

system: build
	DROVER_BIN=$(abspath $(BUILD))/drover $(PYTEST) -q tests/system

test: deps
	$(MAKE) build
	$(MAKE) unit
	$(MAKE) system

run: deps
	$(MAKE) build
	$(BUILD)/drover dev --workers $(WORKERS)

bench: build
	@echo "see bench/README.md; e.g. $(BUILD)/bench/heartbeat-load --workers 1000"

clean:
	rm -rf $(BUILD)
