#!/usr/bin/env python3
"""Host end of a model's byte stream in the QEMU tier (the UART's line).

Connects to the server's stream socket (--stream NAME=unix:PATH), keeps
every byte the device sends (also appended to LOG), and answers one
command per line on stdin with one line on stdout:

  send HEX             the bytes, to the device            -> ok N
  sendpat N SEED       N pattern bytes (byte i = (i*31 + SEED) & 0xff)
  recv N MS            the next N bytes, within MS ms      -> ok HEX
  recvsum N MS         the next N bytes as FNV-1a 32       -> ok 0x%08x
  pending              bytes received and not taken yet    -> ok N
  drain                drop the bytes received so far      -> ok N
  shell                drives the guest shell on the line  -> ok / error

It says "ok connected" (or "error WHY", and exits) first. A failed command
answers "error WHY"; the agent keeps going.
"""
import hashlib
import re
import socket
import sys
import threading
import time


def fnv32(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def pattern(n, seed):
    return bytes((i * 31 + seed) & 0xFF for i in range(n))


class Line:
    """The connection and what came from it, filled by a reader thread."""

    def __init__(self, path, log):
        self.sock = None
        for _ in range(200):
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                self.sock = None
                time.sleep(0.05)
        if self.sock is None:
            raise OSError("cannot connect to " + path)
        self.log = open(log, "ab", buffering=0)
        self.buf = bytearray()
        self.cv = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            self.log.write(data)
            with self.cv:
                self.buf += data
                self.cv.notify_all()

    def take(self, n, ms):
        """The first n bytes received, or None after ms milliseconds."""
        end = time.monotonic() + ms / 1000
        with self.cv:
            while len(self.buf) < n:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)
            data = bytes(self.buf[:n])
            del self.buf[:n]
            return data

    def wait_for(self, regex, ms, marker=None):
        """Waits until the bytes received match regex (bytes), consumes
        them up to the end of the match; the match, or None. With a
        marker (bytes the match ends with), the regex runs only once the
        marker is there: a long output is not searched again and again."""
        end = time.monotonic() + ms / 1000
        with self.cv:
            while True:
                if marker is None or marker in self.buf:
                    m = re.search(regex, bytes(self.buf), re.S)
                    if m:
                        del self.buf[: m.end()]
                        return m
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def pending(self, drop=False):
        with self.cv:
            n = len(self.buf)
            if drop:
                del self.buf[:]
            return n


def shell(line):
    """A session on the guest's shell: commands typed, answers read. Each
    marker is computed by the shell ($((...))), so the echo of the typed
    line never matches it."""
    steps = []

    def run(cmd, regex, ms=20000, marker=None):
        line.sock.sendall(cmd.encode() + b"\n")
        m = line.wait_for(regex, ms, marker)
        if m is None:
            tail = bytes(line.buf[-200:]).decode("latin-1")
            raise RuntimeError("%r: no %r in %d ms (last output %r)"
                               % (cmd, regex, ms, tail))
        return m

    # The guest starts the shell as it asks for this: until the port is
    # open, what is typed is lost (opening clears the UART's FIFOs), so
    # wait for the prompt, then ask until the shell answers.
    line.wait_for(rb"# ", 30000)
    for _ in range(10):
        line.sock.sendall(b"echo vdev-$((40+2))-ready\n")
        if line.wait_for(rb"vdev-42-ready", 3000):
            break
    else:
        raise RuntimeError("no answer from the shell in 30 s")
    steps.append("prompt")
    m = run("echo tty=$(tty) vdev-$((1+1))", rb"tty=(\S+) vdev-2")
    tty = m.group(1).decode()
    if not re.fullmatch(r"/dev/ttyS\d+", tty):
        raise RuntimeError("the shell's terminal is %s, not a ttyS" % tty)
    steps.append("on " + tty)
    # 2.8 KB of output: every line, in order.
    t0 = time.monotonic()
    m = run("seq 1 600; echo vdev-$((3+3))-end", rb"(\d+\r?\n.*?)vdev-6-end",
            60000, b"vdev-6-end")
    nums = re.findall(rb"^(\d+)\r?$", m.group(1), re.M)
    want = [str(i).encode() for i in range(1, 601)]
    if nums != want:
        got = len(nums)
        raise RuntimeError("seq 1 600 came back as %d lines%s"
                           % (got, "" if got != 600 else ", not in order"))
    steps.append("600 lines out in %.1f s" % (time.monotonic() - t0))
    # 600 bytes of input in one line, checked by the guest's md5sum.
    text = "".join("abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7) % 36]
                   for i in range(600))
    digest = hashlib.md5((text + "\n").encode()).hexdigest()
    m = run("echo %s | md5sum; echo vdev-$((4+4))-md5" % text,
            rb"([0-9a-f]{32})\s+-\s*\r?\n.*?vdev-8-md5")
    if m.group(1).decode() != digest:
        raise RuntimeError("600 typed bytes hashed to %s, want %s"
                           % (m.group(1).decode(), digest))
    steps.append("600 bytes in")
    m = run("echo status=$? vdev-$((5+5))-done", rb"status=(\d+) vdev-10-done")
    steps.append("exit status " + m.group(1).decode())
    return ", ".join(steps)


def serve(line):
    for req in sys.stdin:
        w = req.split()
        try:
            if not w:
                out = "error empty request"
            elif w[0] == "send":
                data = bytes.fromhex(w[1])
                line.sock.sendall(data)
                out = "ok %d" % len(data)
            elif w[0] == "sendpat":
                line.sock.sendall(pattern(int(w[1], 0), int(w[2], 0)))
                out = "ok " + w[1]
            elif w[0] in ("recv", "recvsum"):
                n, ms = int(w[1], 0), int(w[2], 0)
                data = line.take(n, ms)
                if data is None:
                    out = "error got %d of %d bytes in %d ms" % (
                        line.pending(), n, ms)
                elif w[0] == "recv":
                    out = "ok " + data.hex()
                else:
                    out = "ok 0x%08x" % fnv32(data)
            elif w[0] == "pending":
                out = "ok %d" % line.pending()
            elif w[0] == "drain":
                out = "ok %d" % line.pending(drop=True)
            elif w[0] == "shell":
                out = "ok " + shell(line)
            else:
                out = "error unknown command " + w[0]
        except (OSError, ValueError, IndexError, RuntimeError) as e:
            out = "error %s" % e
        sys.stdout.write(out.replace("\n", " ") + "\n")
        sys.stdout.flush()


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: stream-agent.py SOCKET LOG\n")
        return 2
    try:
        line = Line(sys.argv[1], sys.argv[2])
    except OSError as e:
        sys.stdout.write("error %s\n" % e)
        return 1
    sys.stdout.write("ok connected\n")
    sys.stdout.flush()
    serve(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
