# nicsim: two commands on a fresh Debian machine with Swift.
#   make run   installs what is missing, builds, and runs the main job
#   make test  installs what is missing, builds, and runs every test

SWIFT ?= swift
BUILD_FLAGS ?=

.PHONY: run test build setup bench clean

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

bench: setup
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark

clean:
	rm -rf .build
