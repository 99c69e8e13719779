#!/usr/bin/env python3
"""Differential qtest runner: runs every fixtures/qtest/<suite>/*.qtest script
against QEMU (qemu-system-x86_64, TCG, -qtest stdio) and against `nicsim qtest`
with the same arguments, over the same harness (a stream socketpair as
`-netdev socket,fd=N`), and compares each transcript with the expected one
(NAME.out, nicsim's recorded behaviour).

- nicsim must reproduce NAME.out exactly.
- QEMU may differ only on steps annotated `# deviation: ID` (or several
  IDs separated by commas), where each ID is an entry (a `### ID` heading)
  of docs/deviations.md.

Exit status 0 when every difference is explained, 1 otherwise, 2 when a tool
is missing. Usage: scripts/qtest-diff.py [--nicsim PATH] [--qemu PATH] [-v] [SCRIPT...]
"""
import argparse
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures", "qtest")
DEVIATIONS = os.path.join(ROOT, "docs", "deviations.md")
REPLY = re.compile(r"^(OK|FAIL|ERR)\b")
# QEMU's pc machine runs its own timers in real time (PIT on IRQ 0, RTC on
# IRQ 8), which nicsim's board does not have; their edges are noise here
# (docs/deviations.md, BOARD-MACHINE-TIMERS).
MACHINE_TIMER_IRQ = re.compile(r"^IRQ (raise|lower) (0|8)$")
# Real time QEMU needs to take a frame from its socket and raise the
# interrupt (raise it on a loaded machine: NICSIM_QTEST_SETTLE=1).
SETTLE = float(os.environ.get("NICSIM_QTEST_SETTLE", "0.25"))
RECV_TIMEOUT = 2.0
REPLY_TIMEOUT = 10.0


def halting_firmware(path):
    """64 KiB of HLT with `cli; hlt; jmp $-3` at the reset vector (0xFFF0)."""
    image = bytearray(b"\xf4" * 65536)
    image[0xFFF0:0xFFF4] = b"\xfa\xf4\xeb\xfd"
    with open(path, "wb") as f:
        f.write(image)


def parse_script(path):
    args, steps = [], []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if line.startswith("#! args:"):
                args += line[len("#! args:"):].split()
                continue
            body, deviation, settle = line, None, False
            if "#" in line:
                body, comment = line.split("#", 1)
                for part in comment.split(";"):
                    part = part.strip()
                    if part.startswith("deviation:"):
                        deviation = part[len("deviation:"):].strip()
                    elif part == "settle":
                        settle = True
            body = body.rstrip()
            if body:
                steps.append((body, deviation, n, settle))
    return args, steps


class Harness:
    """One program under qtest: its stdin/stdout and the netdev socket."""

    def __init__(self, argv, args, log):
        self.ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = theirs.fileno()
        full = argv + [a.replace("@NET", str(fd)) for a in args]
        self.proc = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log, pass_fds=(fd,), bufsize=0)
        theirs.close()
        self.buffer = b""

    def _readline(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace")

    def command(self, text):
        self.proc.stdin.write((text + "\n").encode())
        out = []
        while True:
            line = self._readline(REPLY_TIMEOUT)
            if line is None:
                out.append("(no reply: %s)" % ("exited" if self.proc.poll() is not None else "timeout"))
                return out
            if MACHINE_TIMER_IRQ.match(line):
                continue
            out.append(line)
            if REPLY.match(line):
                return out

    def drain(self, wait):
        out = []
        while True:
            line = self._readline(wait)
            if line is None:
                return out
            if not MACHINE_TIMER_IRQ.match(line):
                out.append(line)
            wait = 0.02

    def send(self, frame):
        self.ours.sendall(len(frame).to_bytes(4, "big") + frame)
        return self.drain(SETTLE)

    def recv(self):
        def exact(n, deadline):
            data = b""
            while len(data) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                r, _, _ = select.select([self.ours], [], [], left)
                if not r:
                    return None
                chunk = self.ours.recv(n - len(data))
                if not chunk:
                    return None
                data += chunk
            return data
        deadline = time.monotonic() + RECV_TIMEOUT
        header = exact(4, deadline)
        if header is None:
            return ["FRAME none"]
        body = exact(int.from_bytes(header, "big"), deadline)
        return ["FRAME " + (body.hex() if body is not None else "none")]

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        # nicsim ends at end of input; QEMU keeps running until told to stop.
        try:
            self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.ours.close()


def run(argv, args, steps, log):
    h = Harness(argv, args, log)
    transcript = []
    try:
        for body, _, _, settle in steps:
            transcript.append("> " + body)
            if body.startswith("%send "):
                transcript += h.send(bytes.fromhex(body[6:].replace(" ", "")))
            elif body == "%recv":
                transcript += h.drain(0.0) + h.recv()
            else:
                transcript += h.drain(0.0) + h.command(body)
            if settle:
                # The device finishes this step's work after the reply (QEMU
                # runs virtio transmit in a bottom half): wait for its lines.
                transcript += h.drain(SETTLE)
    finally:
        h.close()
    return transcript


def by_step(transcript):
    """Splits a transcript into (step, [lines]) pairs."""
    out = []
    for line in transcript:
        if line.startswith("> "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def split_irqs(lines):
    """A step's lines as (IRQ lines, other lines), each in order: where an
    interrupt is reported relative to the step's reply is timing, not behaviour."""
    irqs = [l for l in lines if l.startswith("IRQ ")]
    return irqs, [l for l in lines if not l.startswith("IRQ ")]


def documented_ids():
    if not os.path.exists(DEVIATIONS):
        return set()
    with open(DEVIATIONS) as f:
        return {m.group(1) for m in re.finditer(r"^###\s+(\S+)", f.read(), re.M)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nicsim", default=os.path.join(ROOT, ".build", "debug", "nicsim"))
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("-v", "--verbose", action="store_true", help="print documented deviations too")
    p.add_argument("--show-qemu", action="store_true", help="print QEMU's transcript of each script and stop (for writing scripts)")
    p.add_argument("scripts", nargs="*")
    o = p.parse_args()

    qemu = shutil.which(o.qemu)
    if not qemu:
        print("qtest-diff: %s not found; install qemu-system-x86 (make test does)" % o.qemu, file=sys.stderr)
        return 2
    if not o.show_qemu and not os.access(o.nicsim, os.X_OK):
        print("qtest-diff: %s not built; run swift build first" % o.nicsim, file=sys.stderr)
        return 2
    scripts = o.scripts or sorted(
        os.path.join(d, f) for d, _, fs in os.walk(FIXTURES) for f in fs if f.endswith(".qtest"))
    if not scripts:
        print("qtest-diff: no scripts under %s" % FIXTURES, file=sys.stderr)
        return 2
    ids = documented_ids()
    tmp = tempfile.mkdtemp(prefix="nicsim-qtest-diff-")
    bios = os.path.join(tmp, "halt.bin")
    halting_firmware(bios)
    common = ["-machine", "pc,accel=tcg", "-nodefaults", "-display", "none", "-monitor", "none",
              "-serial", "none", "-bios", bios, "-qtest", "stdio", "-qtest-log", "/dev/null"]
    failures = documented = 0
    with open(os.path.join(tmp, "stderr.log"), "w") as log:
        for path in scripts:
            name = os.path.relpath(path, FIXTURES)
            args, steps = parse_script(path)
            expected_path = os.path.splitext(path)[0] + ".out"
            if o.show_qemu:
                print("\n".join(run([qemu] + common, args, steps, log)))
                continue
            try:
                with open(expected_path) as f:
                    expected = f.read().splitlines()
            except OSError:
                print("FAIL %s: no expected transcript" % name)
                failures += 1
                continue
            ours = run([o.nicsim, "qtest"] + common, args, steps, log)
            theirs = run([qemu] + common, args, steps, log)
            problems = []
            if ours != expected:
                i = next((k for k, (a, b) in enumerate(zip(ours, expected)) if a != b), min(len(ours), len(expected)))
                problems.append("nicsim differs from %s at line %d: got %r, expected %r" % (
                    os.path.basename(expected_path), i + 1,
                    ours[i] if i < len(ours) else "(end)", expected[i] if i < len(expected) else "(end)"))
            exp_steps, qemu_steps = by_step(expected), by_step(theirs)
            explained = 0
            for k, (body, deviation, n, _) in enumerate(steps):
                want = exp_steps[k][1] if k < len(exp_steps) else ["(missing)"]
                got = qemu_steps[k][1] if k < len(qemu_steps) else ["(missing)"]
                if split_irqs(want) == split_irqs(got):
                    continue
                tags = [t.strip() for t in deviation.split(",")] if deviation else []
                if tags and all(t in ids for t in tags):
                    explained += 1
                    if o.verbose:
                        print("  %s:%d %s  [%s] nicsim %s, QEMU %s" % (name, n, body, deviation, want, got))
                    continue
                why = "deviation %s is not in docs/deviations.md" % deviation if deviation else "undocumented"
                problems.append("%s:%d %s\n      nicsim: %s\n      QEMU:   %s\n      (%s)" % (
                    name, n, body, " | ".join(want), " | ".join(got), why))
            documented += explained
            if problems:
                failures += 1
                print("FAIL %s" % name)
                for line in problems:
                    print("    " + line)
            else:
                print("ok   %s (%d steps, %d documented deviations)" % (name, len(steps), explained))
    shutil.rmtree(tmp, ignore_errors=True)
    print("qtest-diff: %d scripts, %d failing, %d documented deviations" % (len(scripts), failures, documented))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
