"""Drives the churnlab REPL on a pseudo-terminal, for tests/e2e/repl_pty.py and
tests/e2e/interrupt_pty.py.

The rules that keep these sessions robust on a loaded machine: wait for the prompt before
sending a control key (a Ctrl-C typed while a statement still runs is not one at the prompt),
and wait for the output of a long statement to show before interrupting it (the statement has
then really started). Timeouts are generous (30 s): they only bound a hung session.

Checks print "ok   name" or "FAIL name" (with the detail indented below); summary() prints
"N passed, M failed" and returns the exit status."""
import os
import pty
import re
import select
import signal
import time

EXE = os.environ.get("CHURNLAB", "./churnlab")
PROMPT = rb"cl> $"

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + ("\n     " + detail.replace("\n", "\n     ") if detail else ""))
    return bool(cond)


def summary():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


class Session:
    """One churnlab process on a pty. buf holds the output since the last mark()."""

    def __init__(self, env, argv=None, pid_fd=None):
        if pid_fd:
            self.pid, self.fd = pid_fd
        else:
            argv = argv or [EXE]
            self.pid, self.fd = pty.fork()
            if self.pid == 0:
                os.execve(argv[0], argv, env)
        self.buf = b""

    def read_until(self, pattern, timeout=30.0):
        """Reads until the regex (bytes) matches the output since the last mark."""
        end = time.time() + timeout
        rx = re.compile(pattern)
        while True:
            if rx.search(self.buf):
                return True
            left = end - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    return bool(rx.search(self.buf))
                if not data:
                    return bool(rx.search(self.buf))
                self.buf += data

    def mark(self):
        self.buf = b""

    def send(self, s):
        os.write(self.fd, s.encode() if isinstance(s, str) else s)

    def text(self):
        return self.buf.decode(errors="replace")

    def run(self, line, timeout=30.0):
        """Sends a line, waits for the prompt after it; returns (back at the prompt, output)."""
        self.mark()
        self.send(line + "\r")
        back = self.read_until(PROMPT, timeout)
        return back, self.text()

    def interrupt(self, line, started, delay=0.2, timeout=30.0):
        """Sends line, waits until the regex `started` shows in its output (the long part is
        running), waits `delay` s more, types Ctrl-C and waits for the prompt.
        Returns (started seen, back at the prompt, seconds from Ctrl-C to prompt, output)."""
        self.mark()
        self.send(line + "\r")
        seen = self.read_until(started, timeout)
        if not seen:
            return False, False, 0.0, self.text()
        time.sleep(delay)
        t0 = time.time()
        self.send("\x03")
        back = self.read_until(PROMPT, timeout)  # the caller looks for "interrupted"
        return True, back, time.time() - t0, self.text()

    def wait(self, timeout=30.0):
        """Waits for the process to exit (draining its output); its exit code, or None after
        killing it when it does not exit in time."""
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.read_until(rb"(?!)", 0.3)  # collect what it wrote before exiting
                return os.waitstatus_to_exitcode(status)
            try:  # drain so the child never blocks on a full pty
                r, _, _ = select.select([self.fd], [], [], 0.05)
                if r:
                    self.buf += os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.05)
        self.kill()
        return None

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
