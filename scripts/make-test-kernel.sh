#!/usr/bin/env bash
# Assembles fixtures/src/test-kernel.S into fixtures/tftpboot/vmlinuz: a
# tiny Linux-boot-protocol kernel that prints the command line and initrd
# the boot loader handed it, then halts (see the source's header).
# Needs GNU binutils (as, ld, objcopy); the built file is committed, so
# tests and `make run` don't.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
as --32 -o "$tmp/k.o" fixtures/src/test-kernel.S
ld -m elf_i386 -Ttext 0 -e _start -o "$tmp/k.elf" "$tmp/k.o"
objcopy -O binary "$tmp/k.elf" fixtures/tftpboot/vmlinuz
echo "fixtures/tftpboot/vmlinuz: $(stat -c %s fixtures/tftpboot/vmlinuz) bytes"
