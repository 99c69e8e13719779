#!/usr/bin/env bash
# Coverage-guided fuzzing of every nicsim surface with libFuzzer.
#
#   scripts/fuzz.sh                 every target for FUZZ_SECONDS (default 60) each
#   FUZZ_SECONDS=3 scripts/fuzz.sh  the smoke `make test` runs
#   FUZZ_TARGETS="rtl8139 wire" scripts/fuzz.sh
#
# Builds the fuzz binary (the Fuzz/ package: NICSimFuzz's harnesses with
# libFuzzer and AddressSanitizer), then runs each target on a copy of its
# seeds and kept reproducers from fixtures/fuzz/<target>/, in a scratch
# directory (FUZZ_WORK, default a new one under /tmp; nothing is written
# into fixtures/). Prints one line per target:
#
#   fuzz TARGET: N executions, 0 crashes
#
# and exits non-zero when any target crashed, leaked, timed out (one input
# running FUZZ_INPUT_TIMEOUT seconds, default 10) or ran out of memory,
# naming the input that did it and how to replay it.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
input_timeout="${FUZZ_INPUT_TIMEOUT:-10}"
swift="${SWIFT:-swift}"
build_flags=(-c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address)

# libFuzzer ships with swift.org toolchains (libclang_rt.fuzzer); say so
# plainly when this one has none, instead of failing inside the build.
toolchain="$(dirname "$(readlink -f "$(command -v "$swift")")")/.."
if ! ls "$toolchain"/lib/swift/clang/lib/*/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
    echo "fuzz: this Swift toolchain has no libFuzzer (libclang_rt.fuzzer in $toolchain/lib/swift/clang/lib); install a swift.org toolchain" >&2
    exit 1
fi

work="${FUZZ_WORK:-$(mktemp -d /tmp/nicsim-fuzz.XXXXXX)}"
mkdir -p "$work"
if ! (cd Fuzz && "$swift" build "${build_flags[@]}") >"$work/build.log" 2>&1; then
    tail -20 "$work/build.log" >&2
    echo "fuzz: building the fuzz targets failed; the whole log is $work/build.log" >&2
    exit 1
fi
binary="$(cd Fuzz && "$swift" build "${build_flags[@]}" --show-bin-path)/nicsim-fuzz"

# Every target and its input limit, from the binary itself.
declare -A limit
all=()
while read -r name max; do
    all+=("$name")
    limit[$name]=$max
done < <(NICSIM_FUZZ_TARGET=list "$binary")
if [ ${#all[@]} -eq 0 ]; then
    echo "fuzz: $binary lists no targets" >&2
    exit 1
fi

targets=()
wanted="${FUZZ_TARGETS:-}"
for t in ${wanted//,/ }; do
    if [ -z "${limit[$t]:-}" ]; then
        echo "fuzz: unknown target '$t'; the targets are: ${all[*]}" >&2
        exit 2
    fi
    targets+=("$t")
done
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

failed=0
for t in "${targets[@]}"; do
    dir="$work/$t"
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    # Seeds and kept reproducers, flattened into a working corpus the run may grow.
    if [ -d "fixtures/fuzz/$t" ]; then
        find "fixtures/fuzz/$t" -type f | while read -r f; do
            rel="${f#fixtures/fuzz/$t/}"
            cp "$f" "$dir/corpus/${rel//\//-}"
        done
    fi
    SWIFT_BACKTRACE=enable=no NICSIM_FUZZ_TARGET="$t" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
        "$binary" -max_total_time="$seconds" -max_len="${limit[$t]}" -timeout="$input_timeout" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$dir/log" | tail -1)
    [ -z "$runs" ] && runs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$dir/log" | tail -1)
    runs="${runs:-0}"
    found=()
    for a in "$dir"/artifacts/crash-* "$dir"/artifacts/leak-* "$dir"/artifacts/timeout-* "$dir"/artifacts/oom-*; do
        [ -e "$a" ] && found+=("$a")
    done
    if [ $status -eq 0 ] && [ ${#found[@]} -eq 0 ]; then
        echo "fuzz $t: $runs executions, 0 crashes"
        continue
    fi
    failed=1
    echo "fuzz $t: $runs executions, ${#found[@]} crashes (exit status $status; log $dir/log)"
    for a in "${found[@]}"; do
        echo "  $(basename "$a" | cut -d- -f1): $a"
        echo "  replay: SWIFT_BACKTRACE=enable=no NICSIM_FUZZ_TARGET=$t $binary $a"
    done
    [ ${#found[@]} -eq 0 ] && grep -m3 -E "ERROR|SUMMARY|Fatal error" "$dir/log" | sed 's/^/  /'
done
exit $failed
