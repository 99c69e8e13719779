# nicsim: two commands on a fresh Debian machine with Swift.
#   make run   installs what is missing, builds, and runs the main job
#   make test  installs what is missing, builds, and runs every test
#              (ending with a few seconds of fuzzing per fuzz target)
#   make fuzz  fuzzes every target for FUZZ_SECONDS (FUZZ_TARGETS picks some)

SWIFT ?= swift
BUILD_FLAGS ?=
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_SMOKE_SECONDS ?= 3

.PHONY: run test build setup bench fuzz fuzz-smoke clean

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
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" SWIFT=$(SWIFT) bash scripts/fuzz.sh

fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" SWIFT=$(SWIFT) bash scripts/fuzz.sh

fuzz-smoke: setup
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" SWIFT=$(SWIFT) bash scripts/fuzz.sh

bench: setup
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark

clean:
	rm -rf .build
