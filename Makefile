# hashlock: the two commands a newcomer needs are `make demo` and `make test`.
# Both install what is missing (Debian packages, via apt-get), configure and
# build incrementally, then run. Running them again is fast.

BUILD_DIR ?= build
JOBS ?= 2
CMAKE_BUILD_TYPE ?= RelWithDebInfo
HASHLOCK := $(BUILD_DIR)/apps/hashlock/hashlock
DEMO_DIR := $(BUILD_DIR)/demo

# Everything the build, the tests and the demo need, as Debian packages.
PACKAGES := g++ make cmake ccache pkg-config clang libclang-rt-14-dev \
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev \
  libsqlite3-dev postgresql libpqxx-dev libssl-dev \
  nlohmann-json3-dev libcli11-dev libspdlog-dev libtomlplusplus-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps configure build test demo fuzz bench-store sim-sweep format clean

all: build

# Installs only the packages that are missing; a no-op when all are there.
deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE)

configure: $(BUILD_DIR)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

# Every test: unit, conformance (memory, SQLite, PostgreSQL), crash, CLI and fuzz smoke.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 900

# The main job, on an embedded SQLite store.
demo: build
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@bash scripts/demo.sh $(HASHLOCK) $(DEMO_DIR)

# Long fuzzing runs (FUZZ_SECONDS each); the test suite runs a short smoke.
FUZZ_SECONDS ?= 600
fuzz: build
	@for f in $(BUILD_DIR)/fuzz-build/fuzz/fuzz_*; do \
	  name=$$(basename $$f); mkdir -p $(BUILD_DIR)/fuzz-corpus/$$name; \
	  echo "==> $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) $(BUILD_DIR)/fuzz-corpus/$$name fuzz/corpus/$$name || exit 1; \
	done

# The on-chain simulation (issue #7's done command) over seeds FIRST_SEED..LAST_SEED, both modes.
FIRST_SEED ?= 1
LAST_SEED ?= 30
sim-sweep: build
	sh scripts/sim_chain_sweep.sh $(HASHLOCK) $(FIRST_SEED) $(LAST_SEED)

bench-store: build
	$(BUILD_DIR)/bench/store_bench

format:
	@find src apps bench fuzz tests -name '*.h' -o -name '*.cpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
