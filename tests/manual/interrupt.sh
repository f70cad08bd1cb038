#!/bin/sh
# NOT in make test yet: run by hand (CHURNLAB=build/release/churnlab sh tests/manual/interrupt.sh).
# Right after it, tests/e2e/repl.sh's pty Ctrl-C checks fail (the REPL dies on SIGINT at
# the prompt) although both pass alone; not understood yet, so it stays out of the suite.
# Interruption: SIGINT (kill -INT, what Ctrl-C sends) during a long fit of each model kind, a
# long read_csv and a long Lua loop in the REPL on a pseudo-terminal: the session continues,
# and the objects made before stay usable; the interrupted model is left in its documented
# state (tests/manual/interrupt_pty.py prints it). Last line "N passed, M failed".
cd "$(dirname "$0")/../.." || exit 2
C=${CHURNLAB:-./churnlab}
case $C in /*) ;; *) C="$PWD/$C" ;; esac
if ! command -v python3 >/dev/null 2>&1; then
    echo "skip interrupt tests: no python3 for the pseudo-terminal"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
CHURNLAB="$C" python3 tests/manual/interrupt_pty.py
