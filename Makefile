# nicsim: two commands on a fresh Debian machine with Swift.
#   make run   installs what is missing, builds, and runs the main job
#   make test  installs what is missing, builds, and runs every test
#              (ending with a few seconds of fuzzing per fuzz target)
#   make fuzz  fuzzes every target for FUZZ_SECONDS (FUZZ_TARGETS picks some)

SWIFT ?= swift
BUILD_FLAGS ?=
PREFIX ?= /usr/local
CONFIG ?= release
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_SMOKE_SECONDS ?= 3

.PHONY: run test test-cabi build setup bench perf-figures bench-cabi fuzz fuzz-smoke clean install docs fleet fleet-exec

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build $(BUILD_FLAGS)

run: build
	@bash scripts/run-main.sh

test: setup
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)
	python3 scripts/qtest-diff.py --nicsim "$$($(SWIFT) build $(BUILD_FLAGS) --show-bin-path)/nicsim"
	bash scripts/cabi-test.sh debug
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" SWIFT=$(SWIFT) bash scripts/fuzz.sh

# The C ABI through an installed copy: emulator.c built with cc and pkg-config.
test-cabi: setup
	bash scripts/cabi-test.sh debug

# nicsim, libnicsim.so, include/nicsim.h, nicsim.pc and share/nicsim/tftpboot
# under $(PREFIX) (CONFIG=debug for a quick debug build).
install: setup
	SWIFT=$(SWIFT) bash scripts/install.sh "$(PREFIX)" "$(CONFIG)"

# The DocC catalogue (Sources/NICSim/NICSim.docc: the architecture and
# "Link nicsim into your emulator") as a static site in .build/docs.
docs:
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation \
		--target NICSim --output-path .build/docs --transform-for-static-hosting --disable-indexing

# Calls per second through the C ABI (release library, Tests/CABI/bench.c).
bench-cabi:
	$(SWIFT) build -c release --product NICSimABI
	ln -sf libNICSimABI.so .build/release/libnicsim.so.0
	cc -std=c99 -O2 -Iinclude Tests/CABI/bench.c -L.build/release -lNICSimABI -Wl,-rpath,$(CURDIR)/.build/release -o .build/cabi-bench
	.build/cabi-bench

fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" SWIFT=$(SWIFT) bash scripts/fuzz.sh

fuzz-smoke: setup
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" SWIFT=$(SWIFT) bash scripts/fuzz.sh

# A thousand clients PXE-boot at once on the embedded server (release
# build), with wall time and peak memory (docs/FLEET.md).
FLEET_CLIENTS ?= 1000
FLEET_ARGS ?= --model rtl8139:50,virtio-net:30,ne2000:20
fleet: setup
	$(SWIFT) build -c release --product nicsim
	/usr/bin/time -v .build/release/nicsim fleet --clients $(FLEET_CLIENTS) $(FLEET_ARGS) --no-progress 2>&1 \
		| grep -v -e '^\s*\(Average\|Major\|Minor\|Voluntary\|Involuntary\|Swaps\|File system\|Socket\|Signals\|Page size\|Exit status\|Percent\|System time\|User time\)'

# The same with every client running Debian's pxelinux.0 on its own x86
# machine (--nbp exec): 1000 clients took 17 minutes here.
fleet-exec: setup
	$(MAKE) fleet FLEET_ARGS="$(FLEET_ARGS) --nbp exec"

# The package benchmarks, then the five frame-path figures against their
# baselines in the same run (docs/PERFORMANCE.md; `make perf-figures` alone).
bench: setup
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark
	SWIFT=$(SWIFT) bash scripts/perf-figures.sh

perf-figures: setup
	bash scripts/perf-figures.sh

clean:
	rm -rf .build
