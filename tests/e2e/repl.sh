#!/bin/sh
# End-to-end tests of the churnlab executable: the script runner (options, arg table, exit
# codes, tracebacks, Ctrl-C) and the REPL driven through a pipe (auto-print, multi-line
# input, error recovery, pretty printer, ':' commands), then the REPL on a pseudo-terminal
# (tests/e2e/repl_pty.py: completion, Ctrl-C, history). Last line: "N passed, M failed".
#   CHURNLAB=build/release/churnlab sh tests/e2e/repl.sh
cd "$(dirname "$0")/../.." || exit 2
C=${CHURNLAB:-./churnlab}
case $C in /*) ;; *) C="$PWD/$C" ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
skipped=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "     $l"; done; }

# run INPUT ARGS...: feeds INPUT (printf format) to churnlab ARGS; sets out, err, rc
run() {
    input=$1; shift
    printf "$input" | "$C" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out"); err=$(cat "$T/err")
}

# expect NAME WANT_OUT WANT_RC: stdout must equal WANT_OUT exactly
expect() {
    if [ "$out" = "$2" ] && [ "$rc" = "$3" ]; then ok "$1"
    else bad "$1" "want rc=$3 stdout=[$2]" "got  rc=$rc stdout=[$out]" "stderr=[$err]"; fi
}

# has NAME TEXT WHERE: WHERE ("$out" or "$err") must contain TEXT
has() {
    case $3 in *"$2"*) ok "$1" ;; *) bad "$1" "want [$2] in [$3]" ;; esac
}

tab=$(printf '\t')

# lacks NAME TEXT WHERE: WHERE must not contain TEXT
lacks() {
    case $3 in *"$2"*) bad "$1" "did not want [$2] in [$3]" ;; *) ok "$1" ;; esac
}

# ---- the REPL through a pipe ------------------------------------------------------------
run 'x = 21\nx * 2\n'
expect "pipe: statement then expression prints exactly 42" "42" 0
[ -z "$err" ] && ok "pipe: no prompt, banner or noise on stderr" || bad "pipe: quiet stderr" "[$err]"

run '1, "a", nil, true\n'
expect "pipe: multiple results tab-separated, strings quoted" "1${tab}\"a\"${tab}nil${tab}true" 0

run 'function f(a)\n  return a * 2\nend\nf(4)\n'
expect "pipe: multi-line function definition" "8" 0

run '{1,\n 2,\n x = "y"}\n'
expect "pipe: multi-line expression is printed" '{1, 2, x = "y"}' 0

run 'print("a")\nprint(\n"b"\n)\nlocal s = [[\nlong\n]]\n"c"\n'
expect "pipe: print, continued call, long string, expression" "a
b
\"c\"" 0

run 'error("boom")\nprint("after")\nx = = 1\nprint("still")\n'
expect "pipe: runtime and syntax errors do not stop the session" "after
still" 1
has "pipe: runtime error on stderr with traceback" "stdin:1: boom" "$err"
has "pipe: traceback shown" "stack traceback:" "$err"
has "pipe: syntax error on stderr" "unexpected symbol near '='" "$err"

has "pipe: syntax errors name their input line" "stdin:3:" "$err"

# statements keep their input line numbers, also inside functions defined earlier
run 'x = 1\n\nfunction g()\n  error("deep")\nend\n\nr = g()\n'
has "pipe: an error names the line of the input, not of its statement" "stdin:4: deep" "$err"
has "pipe: the traceback names the calling line" "stdin:7:" "$err"

# an error raised inside churnlab's own Lua modules: the user's line and the function they
# called, not the module's frames (rec_eval.lua under cl.rec.search); CHURNLAB_TRACEBACK=1 all
run 'local function f() return cl.rec.search{kind = "bogus"} end\nlocal r = f()\n'
has "pipe: a library error names the user's line" "stdin:1: search: kind must name" "$err"
has "pipe: the traceback keeps the function the user called" "[C]: in function 'churnlab.rec.search'" "$err"
has "pipe: the traceback keeps the user's frames" "stdin:2: in main chunk" "$err"
lacks "pipe: no frame of churnlab's modules" "rec_eval.lua" "$err"
lacks "pipe: no C frame called by churnlab's modules" "churnlab.core.raise" "$err"
has "pipe: the traceback says frames were hidden" "(2 churnlab frames hidden: CHURNLAB_TRACEBACK=1 shows them)" "$err"
printf 'local function f() return cl.rec.search{kind = "bogus"} end\nf()\n' |
    CHURNLAB_TRACEBACK=1 "$C" >"$T/out" 2>"$T/err"
err=$(cat "$T/err")
has "pipe: CHURNLAB_TRACEBACK=1 shows churnlab's frames" "rec_eval.lua:" "$err"
lacks "pipe: CHURNLAB_TRACEBACK=1 hides nothing" "frames hidden" "$err"

# top-level locals at the prompt stay defined; `_` is the last expression's value
run 'local y = 5\ny\nlocal function f(v) return v * 2 end\nf(y)\n_ + 1\nlocal a, b = 1\nprint(a, b)\ndo local hidden = 1 end\nprint(hidden)\n'
expect "pipe: locals persist between statements, _ holds the last value" "5
10
11
1	nil
nil" 0

# -i after a script keeps the script's top-level locals; :load does the same for a file
printf 'local top = 42\nlocal function tf() return top + 1 end\n' >"$T/s.lua"
printf 'local other = "o"\n' >"$T/l.lua"
run 'top\ntf()\n:load '"$T"'/l.lua\nother\n' -i "$T/s.lua"
expect "pipe: -i keeps the script's locals, :load keeps the file's" "42
43
\"o\"" 0
run ':load '"$T"'/missing.lua\n'
has "pipe: :load of a missing file names it" "missing.lua" "$err"

run 'print("x")\nfunction f()\n'
expect "pipe: unfinished chunk at EOF is an error, exit 1" "x" 1
has "pipe: unfinished chunk names <eof>" "<eof>" "$err"

run 'error({code = 1})\n'
has "pipe: non-string error object is described" "(error object is a table value)" "$err"

run 'type(cl), type(help), cl.version == require("churnlab").version\n'
expect "pipe: cl and help pre-bound in the REPL" "\"table\"${tab}\"function\"${tab}true" 0

run 'cl = 5\n'
expect "pipe: user may rebind cl" "" 0

run 't = {} t.self = t t.list = {3, 2, 1}\nt\n'
expect "pipe: cycles marked, keys sorted" '{list = {3, 2, 1}, self = <cycle>}' 0

run '(function() local t = {} for i = 1, 100 do t[i] = i end return t end)()\n'
has "pipe: long tables are cut with a count" "...(60 more)" "$out"

run '"tab\\there\\nnewline\\0"\n'
expect "pipe: strings quoted with escapes" '"tab\there\nnewline\0"' 0

run 'setmetatable({}, {__repl = function(o, w) return "REPL VIEW " .. w end})\n'
expect "pipe: __repl(obj, width) used for the top-level value" "REPL VIEW 80" 0

run 'setmetatable({}, {__tostring = function() return "TS" end})\n'
expect "pipe: __tostring used otherwise" "TS" 0

run 'setmetatable({}, {__repl = function() error("broken") end, __tostring = function() return "fallback" end})\n'
has "pipe: a failing __repl falls back to tostring" "fallback" "$out"
has "pipe: and says why" "__repl failed" "$out"

run '::top::\nprint("label ok")\n'
expect "pipe: '::label::' is Lua, not a REPL command" "label ok" 0

run ':time on\nx = 1\n:time off\nx\n'
case $out in
    "timing on
("*")
timing off
1") ok "pipe: :time on prints the wall time of each statement" ;;
    *) bad "pipe: :time on" "[$out]" ;;
esac

run ':bogus\n1\n'
has "pipe: unknown REPL command is reported" "unknown REPL command" "$err"
expect "pipe: a failed command still fails the piped session" "1" 1

run '=1+1\n'
expect "pipe: Lua 5.1's =expr" "2" 0

run ':quit\nprint("not reached")\n'
expect "pipe: :quit leaves" "" 0

run 'os.exit(3)\n'
expect "pipe: os.exit status kept" "" 3

# ---- scripts and options ----------------------------------------------------------------
cat >"$T/args.lua" <<'LUA'
print(arg[0] ~= nil, arg[1], arg[2], #arg, select("#", ...), ...)
print(arg[-1], arg[-2] ~= nil)
print(rawget(_G, "cl"))
LUA
run '' -e 'y = 1' "$T/args.lua" one two
expect "script: negative indices hold the interpreter options" "true${tab}one${tab}two${tab}2${tab}2${tab}one${tab}two
y = 1${tab}true
nil" 0

run '' -e 'print(1)' -e 'print(2)'
expect "-e: repeatable, in order" "1
2" 0

run '' '-eprint("glued")'
expect "-e: code glued to the option" "glued" 0

run 'x\n' -e 'x = 5' -i
expect "-i: REPL after -e, same globals" "5" 0

run 'print(arg[0], ...)\n' - p q
expect "-: script from stdin with arguments" "-${tab}p${tab}q" 0

printf '#!/usr/bin/env churnlab\nprint("shebang ok")\n' >"$T/sb.lua"
run '' "$T/sb.lua"
expect "script: a #! first line is skipped" "shebang ok" 0

run '' -- "$T/sb.lua"
expect "--: ends options" "shebang ok" 0

printf 'local function inner()\n  error("deep failure")\nend\ninner()\n' >"$T/err.lua"
run '' "$T/err.lua"
expect "script error: exit 1, nothing on stdout" "" 1
has "script error: message names file and line" "err.lua:2: deep failure" "$err"
has "script error: traceback names the function" "in local 'inner'" "$err"
lacks "script error: a user error hides nothing" "frames hidden" "$err"

printf 'local cl = require "churnlab"\nlocal function f()\n  return cl.rec.search{kind = "bogus"}\nend\nf()\n' >"$T/liberr.lua"
run '' "$T/liberr.lua"
has "script: a library error names the script's line" "liberr.lua:3: search: kind must name" "$err"
has "script: the traceback keeps the script's frames" "liberr.lua:3: in local 'f'" "$err"
lacks "script: no frame of churnlab's modules" "rec_eval.lua" "$err"

run 'ok\n' -i "$T/err.lua"
has "-i after a failing script still opens the REPL" "deep failure" "$err"
[ "$rc" = 1 ] && ok "-i piped: the script's failure is the exit status" || bad "-i status" "rc=$rc"

run '' "$T/missing.lua"
[ "$rc" = 1 ] && ok "missing script: exit 1" || bad "missing script: exit 1" "rc=$rc"
has "missing script: says so" "cannot open" "$err"

run '' -q
[ "$rc" = 2 ] && ok "unknown option: exit 2" || bad "unknown option: exit 2" "rc=$rc"
has "unknown option: named" "unrecognized option '-q'" "$err"
has "unknown option: usage on stderr" "usage: churnlab" "$err"
[ -z "$out" ] && ok "unknown option: nothing on stdout" || bad "unknown option stdout" "[$out]"

run '' -e
[ "$rc" = 2 ] && ok "-e without code: exit 2" || bad "-e without code" "rc=$rc"
has "-e without code: says so" "'-e' needs an argument" "$err"

run '' --version
case $out in "churnlab "[0-9]*.[0-9]*.[0-9]*" (Lua 5.4"*")") [ "$rc" = 0 ] && ok "--version" || bad "--version rc" "$rc" ;;
    *) bad "--version" "[$out]" ;; esac
run '' -v
case $out in "churnlab "*) ok "-v" ;; *) bad "-v" "[$out]" ;; esac

run '' --help
[ "$rc" = 0 ] && ok "--help: exit 0" || bad "--help: exit 0" "rc=$rc"
has "--help: documents piped exit status" "any statement" "$out"
has "--help: documents history" "CHURNLAB_HISTORY" "$out"
has "--help: documents full tracebacks" "CHURNLAB_TRACEBACK=1" "$out"

run 'print("repl ran")\n' -l nosuchmodule
[ "$rc" = 1 ] && ok "-l of a missing module: exit 1" || bad "-l missing" "rc=$rc"
[ -z "$out" ] && ok "-l failure does not open the REPL" || bad "-l failure REPL" "[$out]"
run 'string.upper("x")\n' -l string
expect "-l name then the REPL" '"X"' 0

run '' -e 'os.exit(7)'
expect "os.exit(7) in -e" "" 7

# ---- out of memory: a message, never a crash ---------------------------------------------
# (only where an address-space limit can be set: not under AddressSanitizer)
if sh -c 'ulimit -v 400000 && "$0" -e "print(1)"; r=$?; exit $r' "$C" >/dev/null 2>&1; then
    (ulimit -v 400000; "$C" -e 'local t = {} while true do t[#t + 1] = ("x"):rep(1e7) .. #t end') \
        >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" = 1 ] && ok "out of memory in a script: exit 1" || bad "OOM script status" "rc=$rc"
    has "out of memory in a script: message" "not enough memory" "$(cat "$T/err")"
    printf 'local t = {} while true do t[#t + 1] = ("x"):rep(1e7) .. #t end\nprint("alive")\n' |
        (ulimit -v 400000; "$C") >"$T/out" 2>"$T/err"
    rc=$?
    [ "$(cat "$T/out")" = alive ] && ok "out of memory in the REPL: the session goes on" ||
        bad "OOM REPL" "rc=$rc out=[$(cat "$T/out")] err=[$(cat "$T/err")]"
else
    skipped=$((skipped + 1)); echo "skip out-of-memory tests (cannot limit the address space here)"
fi

# ---- Ctrl-C -----------------------------------------------------------------------------
# A background job of a non-interactive shell starts with SIGINT ignored; churnlab installs
# its own handler anyway (as lua.c does), so kill -INT reaches it.
rm -f "$T/out" "$T/err"
"$C" -e 'print("start") io.stdout:flush() while true do end' >"$T/out" 2>"$T/err" &
pid=$!
i=0; while [ ! -s "$T/out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid; wait $pid; rc=$?
[ "$rc" = 130 ] && ok "Ctrl-C stops a script with status 130" || bad "Ctrl-C script status" "rc=$rc"
has "Ctrl-C in a script says interrupted" "interrupted!" "$(cat "$T/err")"

rm -f "$T/out" "$T/err"
printf 'print("start") io.stdout:flush()\nwhile true do end\nprint("not reached")\n' |
    "$C" >"$T/out" 2>"$T/err" &
pid=$!
i=0; while [ ! -s "$T/out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid; wait $pid; rc=$?
[ "$rc" = 130 ] && ok "Ctrl-C stops a piped session with status 130" || bad "piped Ctrl-C" "rc=$rc"
[ "$(cat "$T/out")" = "start" ] && ok "piped Ctrl-C: later statements not run" ||
    bad "piped Ctrl-C output" "[$(cat "$T/out")]"

# ---- the REPL on a pseudo-terminal ------------------------------------------------------
# Timing-driven terminal sessions are not run under the sanitizers (CHURNLAB_SANITIZER is set
# by tests/run.sh): a slower start desynchronises them; the piped tests above cover the same
# REPL logic under ASan and UBSan.
if [ -n "${CHURNLAB_SANITIZER:-}" ]; then
    skipped=$((skipped + 1)); echo "skip pseudo-terminal tests (timing-driven; not run under $CHURNLAB_SANITIZER)"
elif [ -x /usr/bin/python3 ]; then
    CHURNLAB="$C" /usr/bin/python3 tests/e2e/repl_pty.py >"$T/pty" 2>&1
    prc=$?
    attempt=1
    while [ "$prc" != 0 ] && [ $attempt -lt 3 ]; do
        # The terminal sessions race the machine's load (a prompt drawn late desynchronises
        # the rest). Up to three attempts; every failed one is shown, so a failure that
        # repeats stays visible.
        echo "pty tests: attempt $attempt failed (shown below); retrying"
        sed "s/^\([0-9]* passed, [0-9]* failed\)$/pty attempt $attempt: \1/" "$T/pty"
        attempt=$((attempt + 1))
        CHURNLAB="$C" /usr/bin/python3 tests/e2e/repl_pty.py >"$T/pty" 2>&1
        prc=$?
    done
    sed 's/^\([0-9]* passed, [0-9]* failed\)$/pty: \1/' "$T/pty"
    p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$T/pty")
    f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$T/pty")
    if [ -z "$p" ]; then bad "pty tests ran" "exit $prc, no summary"
    else
        passed=$((passed + p)); failed=$((failed + f))
        [ "$prc" = 0 ] || [ "$f" -gt 0 ] || bad "pty tests exit status" "rc=$prc"
    fi
else
    skipped=$((skipped + 1)); echo "skip pseudo-terminal tests (no /usr/bin/python3)"
fi

if [ $skipped -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
else echo "$passed passed, $failed failed"; fi
[ $failed -eq 0 ]
