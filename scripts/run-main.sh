#!/usr/bin/env bash
# The main job `make run` runs: the best end-to-end demonstration nicsim has.
set -euo pipefail
bin="$(swift build --show-bin-path)/nicsim"
echo "== nicsim board: the simulated PC as a driver finds it through 0xCF8/0xCFC"
"$bin" board
