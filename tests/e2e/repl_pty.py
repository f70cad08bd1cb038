#!/usr/bin/python3
"""The churnlab REPL on a pseudo-terminal: what a pipe cannot show (readline, completion,
Ctrl-C, history, colours). Run by tests/e2e/repl.sh with CHURNLAB=<executable>; prints
"ok/FAIL name" lines and ends with "N passed, M failed"."""
import os
import pty
import re
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptylib import EXE, PROMPT, Session, check, summary  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    hist = os.path.join(tmp, "history")
    env = dict(os.environ, TERM="xterm", CHURNLAB_HISTORY=hist, HOME=tmp, INPUTRC="/dev/null")
    env.pop("NO_COLOR", None)
    s = Session(env)
    check("banner and prompt", s.read_until(rb"(?s)churnlab \d+\.\d+\.\d+.*cl> ", 15),
          repr(s.buf[-300:]))

    s.mark()
    s.send("1+1\r")
    check("expression printed (coloured on a terminal)", s.read_until(rb"\x1b\[36m2\x1b\[0m"),
          repr(s.buf))
    s.read_until(PROMPT)

    s.mark()
    s.send("cl.co\t")
    check("Tab completes cl.co to cl.core", s.read_until(rb"cl\.core"), repr(s.buf))
    s.send(".thr\t")
    check("Tab completes through a module table, no space appended",
          s.read_until(rb"cl\.core\.threads"), repr(s.buf))
    s.send("\x15")  # Ctrl-U: drop the line
    s.mark()
    s.send("f = io.stdout\r")
    s.read_until(PROMPT)
    s.mark()
    s.send("f:wr\t")
    check("Tab completes methods after ':' through a userdata's __index",
          s.read_until(rb"f:write"), repr(s.buf))
    s.send("\x15")
    s.mark()
    s.send("s = 'abc'\r")
    s.read_until(PROMPT)
    s.mark()
    s.send("s:up\t")
    check("Tab completes string methods", s.read_until(rb"s:upper"), repr(s.buf))
    s.send("\x15")
    s.mark()
    s.send("s:\t\t")
    check("Tab Tab lists every method", s.read_until(rb"(?s)byte.*upper"), repr(s.buf))
    s.send("\x15")

    s.mark()
    s.send("users = cl.frame{churned = {1, 0}, plan = {'a', 'b'}}\r")
    s.read_until(PROMPT)
    s.mark()
    s.send("users.chu\t")
    check("Tab completes a frame's column names", s.read_until(rb"users\.churned"), repr(s.buf))
    s.send("\x15")

    open(os.path.join(tmp, "uniquefile.csv"), "w").close()
    s.mark()
    s.send('p = "' + tmp + '/uniq\t')
    check("Tab inside a string completes file names", s.read_until(rb"uniquefile\.csv"),
          repr(s.buf))
    s.send("\x15")

    s.mark()
    s.send("half = \x03")
    check("Ctrl-C at the prompt clears the line", s.read_until(rb"\^C\r?\n.*" + PROMPT), repr(s.buf))
    s.mark()
    s.send("function g()\r")
    s.read_until(rb"\.\.> $")
    s.send("\x03")
    check("Ctrl-C at the continuation prompt drops the chunk",
          s.read_until(rb"\^C\r?\n.*" + PROMPT), repr(s.buf))

    s.mark()
    s.send("keep = 42\r")
    s.read_until(PROMPT)
    s.mark()
    s.send("print('loop' .. 'ing') while true do end\r")
    s.read_until(rb"looping")  # the loop runs: a Ctrl-C now is not one at the prompt
    time.sleep(0.2)
    s.send("\x03")
    check("Ctrl-C interrupts a running loop", s.read_until(rb"interrupted!"), repr(s.buf))
    check("and returns to the prompt", s.read_until(PROMPT), repr(s.buf))
    s.mark()
    s.send("keep + 1\r")
    check("the session survives: globals intact", s.read_until(rb"43"), repr(s.buf))
    s.read_until(PROMPT)

    # an error inside churnlab's Lua modules: the user's line, not the modules' frames
    s.mark()
    s.send('cl.rec.search{kind = "bogus"}\r')
    got = s.read_until(rb"(?s)frames? hidden.*" + PROMPT)
    check("terminal: a library error shows the user's line, no module frames",
          got and b"stdin:1: search: kind must name" in s.buf and b"rec_eval.lua" not in s.buf,
          repr(s.buf))

    # a long C loop (a gbdt fit polls the core's interrupt flag); skipped without cl.gbdt
    s.mark()
    s.send("has_gbdt = cl.gbdt ~= nil and cl.tensor ~= nil\r")
    s.read_until(PROMPT)
    s.mark()
    s.send("has_gbdt\r")
    s.read_until(PROMPT)
    if b"true" in s.buf:
        s.send("X = cl.tensor.randn(50000, 20, {seed = 1}) "
               "y = cl.tensor.rand(50000, {seed = 2}):gt(0.5)\r")
        s.read_until(PROMPT, 120)  # slow under valgrind
        s.mark()
        s.send("m = cl.gbdt{trees = 100000, depth = 8} print('fit' .. 'ting') m:fit(X, y)\r")
        s.read_until(rb"fitting", 60)
        time.sleep(1.0)
        t0 = time.time()
        s.send("\x03")
        back = s.read_until(rb"(?s)interrupted.*" + PROMPT, 20)
        check("Ctrl-C stops a long C loop (gbdt fit) and returns to the prompt", back,
              repr(s.buf[-400:]))
        check("... promptly", time.time() - t0 < 10, "%.1fs" % (time.time() - t0))
        s.mark()
        s.send("m3 = cl.gbdt{tre\t")
        check("Tab completes a model's parameter names in its constructor",
              s.read_until(rb"gbdt\{trees"), repr(s.buf))
        s.send("\x15")
        s.mark()
        s.send("m2 = cl.gbdt{trees = 2, depth = 2} m2:fit(X, y) print('refit ' .. m2:ntrees())\r")
        check("the interrupt flag is cleared: the next fit runs", s.read_until(rb"refit 2", 60),
              repr(s.buf[-400:]))
        s.read_until(PROMPT)
    else:
        print("skip Ctrl-C in a C loop (no cl.gbdt in this build)")

    s.mark()
    s.send("for i = 1, 2 do\r")
    check("continuation prompt for an unfinished chunk", s.read_until(rb"\.\.> $"), repr(s.buf))
    s.send("print(i * 10) end\r")
    check("multi-line chunk runs", s.read_until(rb"10\r?\n20"), repr(s.buf))
    s.read_until(PROMPT)  # a Ctrl-D typed while output prints is the terminal's, not readline's

    s.mark()
    s.send("\x04")
    code = s.wait()
    check("Ctrl-D leaves with status 0", code == 0, "status %r" % (code,))
    text = open(hist).read() if os.path.exists(hist) else ""
    check("history written at exit", "keep = 42" in text and "1+1" in text, repr(text))
    check("half-typed (Ctrl-C) lines are not in the history", "half =" not in text, repr(text))

    # second session: the history is read back (Up arrow recalls the last entry)
    s = Session(env)
    s.read_until(PROMPT, 15)
    s.mark()
    s.send("\x1b[A")
    check("history read back: Up recalls the last statement",
          s.read_until(rb"for i = 1, 2 do"), repr(s.buf))
    s.send("\x15\x04")
    s.wait()

    # at a real terminal: locals persist, `_`, :load, -i keeps a script's locals, and a
    # 21-row frame prints whole
    script = os.path.join(tmp, "s.lua")
    with open(script, "w") as f:
        f.write("local from_script = 41\n")
    loadme = os.path.join(tmp, "l.lua")
    with open(loadme, "w") as f:
        f.write("local from_load = 'loaded'\n")
    s = Session(dict(env, NO_COLOR="1", CHURNLAB_HISTORY=""), argv=[EXE, "-i", script])
    s.read_until(PROMPT, 15)
    s.mark()
    s.send("from_script + 1\r")
    check("-i keeps the script's top-level locals", s.read_until(rb"42\r?\n"), repr(s.buf))
    s.read_until(PROMPT)
    s.mark()
    s.send("local yy = 5\r")
    s.read_until(PROMPT)
    s.send("yy * 2\r")
    check("a local typed at the prompt is there for the next statement",
          s.read_until(rb"10\r?\n"), repr(s.buf))
    s.read_until(PROMPT)
    s.mark()
    s.send("_ + 1\r")
    check("_ is the last expression's value", s.read_until(rb"11\r?\n"), repr(s.buf))
    s.read_until(PROMPT)
    s.mark()
    s.send(":load " + loadme + "\r")
    s.read_until(PROMPT)
    s.send("from_load\r")
    check(":load runs a file and keeps its locals", s.read_until(rb'"loaded"'), repr(s.buf))
    s.read_until(PROMPT)
    s.mark()
    s.send("v = {} for i = 1, 21 do v[i] = i * 100 end df21 = cl.frame{x = v}\r")
    s.read_until(PROMPT)
    s.mark()
    s.send("df21\r")
    got = s.read_until(rb"\[21 rows x 1 columns\]")
    rows = re.findall(rb"(?m)^\s*\d+\s+\d+00\r?$", s.buf)
    check("a 21-row frame shows all 21 rows", got and len(rows) == 21, repr(s.buf))
    s.read_until(PROMPT)
    s.send("\x04")
    s.wait()

    # one history entry per statement across sessions, a multi-line chunk being one entry
    hist3 = os.path.join(tmp, "history3")
    env4 = dict(env, CHURNLAB_HISTORY=hist3)
    s = Session(env4)
    s.read_until(PROMPT, 15)
    for line in ["a1 = 1\r", "function g1()\r", "  return a1 + 1\r", "end\r", "g1()\r"]:
        s.send(line)
        s.read_until(rb"(cl|\.\.)> $")
    s.send("\x04")
    s.wait()
    s = Session(env4)
    s.read_until(PROMPT, 15)
    s.mark()
    s.send("\x1b[A")
    got = s.read_until(rb"g1\(\)$", 5)
    check("history: the first Up recalls the last statement alone",
          got and b"function" not in s.buf, repr(s.buf))
    s.mark()
    s.send("\x1b[A")
    got = s.read_until(rb"(?s)function g1\(\).*return a1 \+ 1.*end$", 5)
    check("history: the next Up recalls the multi-line function as one entry",
          got and b"a1 = 1" not in s.buf, repr(s.buf))
    s.mark()
    s.send("\x1b[A")
    check("history: and the one before it is the first statement",
          s.read_until(rb"a1 = 1", 5), repr(s.buf))
    s.send("\x15\x04")
    s.wait()

    # the history file is bounded: CHURNLAB_HISTSIZE entries at most
    hist2 = os.path.join(tmp, "history2")
    s = Session(dict(env, CHURNLAB_HISTORY=hist2, CHURNLAB_HISTSIZE="3"))
    s.read_until(PROMPT, 15)
    for i in range(6):
        s.mark()
        s.send("v%d = %d\r" % (i, i))
        s.read_until(PROMPT)
    s.send("\x04")
    s.wait()
    text = open(hist2).read() if os.path.exists(hist2) else ""
    entries = [l for l in text.splitlines() if l and not re.match(r"#\d+$", l)]
    check("history bounded by CHURNLAB_HISTSIZE", entries == ["v3 = 3", "v4 = 4", "v5 = 5"],
          repr(text))

    # an unwritable history file is a warning, not a failure
    env2 = dict(env, CHURNLAB_HISTORY=os.path.join(tmp, "no", "such", "dir", "h"))
    s = Session(env2)
    s.read_until(PROMPT, 15)
    s.mark()
    s.send("2\r")
    s.read_until(PROMPT)
    s.send("\x04")
    code = s.wait()
    check("unwritable history: still exits 0", code == 0, "status %r" % (code,))
    check("unwritable history: warns", b"warning: cannot write history" in s.buf, repr(s.buf))

    # NO_COLOR: no escape codes in results
    env3 = dict(env, NO_COLOR="1")
    s = Session(env3)
    s.read_until(PROMPT, 15)
    s.mark()
    s.send("1+1\r")
    s.read_until(PROMPT)
    check("NO_COLOR disables colours", b"\x1b[36m" not in s.buf and b"2" in s.buf, repr(s.buf))
    s.send("\x04")
    s.wait()

    # started with Ctrl-C ignored (a background job of a non-interactive shell, as some CI
    # runners start their jobs): at a terminal the REPL still takes Ctrl-C
    pid, fd = pty.fork()
    if pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.execve(EXE, [EXE], env3)
    s = Session(None, pid_fd=(pid, fd))
    s.read_until(PROMPT, 15)
    s.mark()
    s.send("half = \x03")
    check("inherited SIG_IGN: Ctrl-C at the prompt clears the line",
          s.read_until(rb"\^C\r?\n.*" + PROMPT), repr(s.buf))
    s.mark()
    s.send("print('loop' .. 'ing') while true do end\r")
    s.read_until(rb"looping")
    time.sleep(0.2)
    s.send("\x03")
    check("inherited SIG_IGN: Ctrl-C interrupts a loop",
          s.read_until(rb"(?s)interrupted!.*" + PROMPT), repr(s.buf))
    s.send("\x04")
    code = s.wait()
    check("inherited SIG_IGN: the session ends normally", code == 0, "status %r" % (code,))

    # stdout redirected to a file: prompts stay on the terminal, results go to the file
    out = os.path.join(tmp, "out.txt")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve("/bin/sh", ["/bin/sh", "-c", 'exec "$0" > "$1"', EXE, out], env3)
    s = Session(None, pid_fd=(pid, fd))
    check("stdout redirected: the prompt is still on the terminal", s.read_until(PROMPT, 15),
          repr(s.buf))
    s.send("6 * 7\r")
    s.read_until(PROMPT)
    s.send("\x04")
    s.wait()
    text = open(out).read() if os.path.exists(out) else ""
    check("stdout redirected: results in the file, no prompts there", text.strip() == "42",
          repr(text))

sys.exit(summary())
