/* main.c - the churnlab executable: script runner and REPL.
 *
 * Lua 5.4's lua.c semantics (options, the arg table, a message handler adding tracebacks,
 * `return <line>` tried first, chunks continued while they end at '<eof>', Ctrl-C through a
 * hook that stops Lua code) plus trepl's comforts: GNU readline with persistent history and
 * completion through __index metatables, a pretty printer, per-statement timing, help().
 * The Lua half of the REPL (printer, completion candidates, ':' commands) is
 * lua/churnlab/repl.lua; this file owns the terminal, signals, history and process status.
 *
 * Ctrl-C: while Lua runs, SIGINT sets the core's interrupt flag (C loops poll it and return
 * CL_EINTR) and a count hook that raises "interrupted!" at the next Lua instruction. The REPL
 * clears both and goes back to the prompt; a script stops with status 130. A third Ctrl-C
 * during one statement (C code that never polls) kills the process. At the readline prompt
 * Ctrl-C clears the line (readline's callback interface, so no longjmp out of readline), and
 * between statements it is spent harmlessly: the handler is the process's for its lifetime.
 */
#include "support/lcl.h"
#include "host/embed.h"

#include <errno.h>
#include <fcntl.h>
#include <lualib.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#define PROMPT1 "cl> "
#define PROMPT2 "..> "
#define HISTORY_DEFAULT 1000

static const char *progname = "churnlab";

static const char USAGE[] =
    "usage: churnlab [options] [script [args...]]\n"
    "       churnlab serve [--help | serve options]   the live dashboard and JSON API\n"
    "options:\n"
    "  -e code        run code (may be repeated; runs before the script)\n"
    "  -l name        require library 'name' into global 'name' (before the script)\n"
    "  -i             enter the REPL after running the script and -e code (also after an\n"
    "                 error, to inspect what was left)\n"
    "  -v, --version  print the version\n"
    "  -h, --help     print this help\n"
    "  --             stop handling options\n"
    "  -              run the script read from standard input\n";

static const char HELP[] =
    "\n"
    "Runs a Lua script with the churnlab modules (local cl = require \"churnlab\"), or an\n"
    "interactive REPL when no script is given.\n"
    "\n"
    "The script sees its arguments in the table arg (arg[0] the script, arg[1]... the\n"
    "arguments, negative indices the interpreter and its options) and as '...'.\n"
    "\n"
    "REPL: expressions are printed (1+1 prints 2), unfinished statements continue on the\n"
    "next line, `cl` and `help` are pre-bound; :help lists the REPL commands. History is\n"
    "kept in $CHURNLAB_HISTORY (default ~/.churnlab_history; empty = none), at most\n"
    "$CHURNLAB_HISTSIZE entries (default 1000). NO_COLOR set disables colours.\n"
    "When standard input is not a terminal the REPL reads statements from it without\n"
    "prompts; a failing statement prints its error on stderr and the next ones still run.\n"
    "Tracebacks show your code's frames and hide churnlab's own modules (saying how many);\n"
    "CHURNLAB_TRACEBACK=1 shows every frame.\n"
    "\n"
    "exit status: 0 success; 1 a script error, or (REPL reading a pipe) any statement\n"
    "failed; 2 bad usage; 130 interrupted with Ctrl-C (scripts and piped input).\n";

/* ---- signals ------------------------------------------------------------------------- */

/* One SIGINT handler for the whole process, installed first thing in main(): the
 * disposition never goes back to the default (or to an inherited SIG_IGN) while the REPL
 * lives, so a Ctrl-C that lands between two statements, say while the terminal is back in
 * cooked mode for an instant, cannot kill an interactive session. Readline's own signal
 * handling is off (rl_catch_signals = 0, as CPython does): the prompt loop blocks SIGINT
 * except inside pselect() and cleans readline's state itself. */
static lua_State *globalL;
static volatile sig_atomic_t sigint_count; /* Ctrl-C presses during the current call */
static volatile sig_atomic_t lua_running;  /* docall() is running Lua (or C under it) */
static volatile sig_atomic_t sigint_keeps; /* an interactive REPL: Ctrl-C outside Lua is noted */
static volatile sig_atomic_t sigwinch_seen;

static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* The hook fires on the next Lua instruction only, not on calls (lua.c also hooks calls and
 * returns): C code that notices the core's interrupt flag raises its own error ("read_csv:
 * interrupted"), and a call hook would replace that message with ours when the error
 * handler is called. */
#define STOP_MASK (LUA_MASKLINE | LUA_MASKCOUNT)

/* Async-signal-safe: counts, sets flags and a hook. In Lua: the core's interrupt flag (C loops
 * poll it) and a count hook raising "interrupted!"; the third press during one call kills the
 * process (C code that never polls). Outside Lua: an interactive REPL only counts (the prompt
 * loop clears the line); a script or a piped session stops as if it had no handler. */
static void on_sigint(int sig)
{
    sigint_count++;
    if (!lua_running) {
        if (sigint_keeps)
            return;
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    cl_progress_interrupt();
    lua_sethook(globalL, lstop, STOP_MASK, 1);
    if (sigint_count == 2) {
        static const char msg[] =
            "\nchurnlab: still busy in C code; press Ctrl-C once more to kill the process\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
    } else if (sigint_count >= 3) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

static void on_sigwinch(int sig)
{
    (void)sig;
    sigwinch_seen = 1;
}

static void set_handler(int sig, void (*fn)(int), int flags, struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    sigaction(sig, &sa, old);
}

/* ---- messages and calls -------------------------------------------------------------- */

static int err_color; /* colour error messages (stderr is a terminal, NO_COLOR unset) */

static void l_message(const char *pname, const char *msg)
{
    if (err_color)
        fputs("\033[31m", stderr);
    if (pname)
        fprintf(stderr, "%s: ", pname);
    fputs(msg, stderr);
    if (err_color)
        fputs("\033[0m", stderr);
    fputc('\n', stderr);
    fflush(stderr);
}

static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (!msg)
            msg = "(error object is not a string)";
        fflush(stdout); /* keep earlier output before the error in a shared log */
        l_message(progname, msg);
        lua_pop(L, 1);
    }
    return status;
}

/* ---- tracebacks that show the user's code ---- */
/* A traceback through churnlab's own Lua modules (the chunks the module loader marks,
 * lcl_mark_library) shows its insides, e.g. rec_eval.lua:179 under cl.rec.search, while the
 * message already names the user's line (lcl_where). Those frames, and the C functions they
 * call, are dropped, with one line saying how many; the C function the user called stays
 * ("[C]: in function 'churnlab.rec.search'"). CHURNLAB_TRACEBACK=1 shows every frame, and so
 * does an error located in churnlab's own code (a bug in it, where its frames are the story). */
#define TB_MAXLINES 64

static int full_traceback(void)
{
    const char *e = getenv("CHURNLAB_TRACEBACK");
    return e && *e && strcmp(e, "0") != 0;
}

/* A table {"\t<short_src>:" = true} of the library chunks with a frame on L's stack (pushed);
 * returns how many frames are such. */
static int library_prefixes(lua_State *L)
{
    lua_newtable(L);
    lua_Debug ar;
    int n = 0;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "S", &ar) || ar.what[0] == 'C' || !lcl_is_library(L, ar.source))
            continue;
        lua_pushfstring(L, "\t%s:", ar.short_src);
        lua_pushboolean(L, 1);
        lua_settable(L, -3);
        n++;
    }
    return n;
}

/* Whether s starts with a prefix of the table at idx (skip: bytes of each prefix to ignore). */
static int has_prefix(lua_State *L, int idx, const char *s, size_t len, size_t skip)
{
    int hit = 0;
    lua_pushnil(L);
    while (!hit && lua_next(L, idx)) {
        size_t pl;
        const char *p = lua_tolstring(L, -2, &pl);
        hit = pl - skip <= len && memcmp(s, p + skip, pl - skip) == 0;
        lua_pop(L, 1);
    }
    if (hit)
        lua_pop(L, 1); /* the key lua_next left */
    return hit;
}

/* Marks the frame lines of a traceback to drop: library frames, the C frames whose caller is
 * dropped, the "(...tail calls...)" of a dropped frame. */
static int mark_internal(lua_State *L, int tab, const char **line, const size_t *len, int n,
                         char *drop)
{
    int hidden = 0;
    for (int i = 0; i < n; i++)
        drop[i] = (char)has_prefix(L, tab, line[i], len[i], 0);
    for (int i = n - 1; i >= 0; i--) /* backwards: a C frame takes its caller's fate */
        if (len[i] >= 5 && memcmp(line[i], "\t[C]:", 5) == 0 && i + 1 < n)
            drop[i] = drop[i + 1];
    for (int i = 1; i < n; i++)
        if (len[i] >= 3 && memcmp(line[i], "\t(.", 3) == 0)
            drop[i] = drop[i - 1];
    for (int i = 0; i < n; i++)
        hidden += drop[i];
    return hidden;
}

/* Replaces the traceback tb (msg, "\nstack traceback:", frame lines) on the top of the stack
 * by the user's frames. */
static void user_traceback(lua_State *L, const char *msg)
{
    if (full_traceback())
        return;
    int tbi = lua_gettop(L);
    if (library_prefixes(L) == 0 || has_prefix(L, tbi + 1, msg, strlen(msg), 1)) {
        lua_pop(L, 1);
        return;
    }
    size_t tlen, head = strlen(msg) + sizeof "\nstack traceback:" - 1;
    const char *tb = lua_tolstring(L, tbi, &tlen);
    if (tlen < head)
        head = tlen;
    const char *line[TB_MAXLINES];
    size_t len[TB_MAXLINES];
    char drop[TB_MAXLINES];
    int n = 0;
    const char *at = tb + head, *end = tb + tlen;
    while (at < end && *at == '\n' && n < TB_MAXLINES) {
        const char *nl = memchr(at + 1, '\n', (size_t)(end - at - 1));
        line[n] = at + 1;
        len[n] = (size_t)((nl ? nl : end) - (at + 1));
        at = nl ? nl : end;
        n++;
    }
    int hidden = mark_internal(L, tbi + 1, line, len, n, drop);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, tb, head);
    for (int i = 0; i < n; i++)
        if (!drop[i]) {
            luaL_addchar(&b, '\n');
            luaL_addlstring(&b, line[i], len[i]);
        }
    luaL_addlstring(&b, at, (size_t)(end - at)); /* past TB_MAXLINES: as it was */
    if (hidden)
        lua_pushfstring(L, "\n\t(%d churnlab frame%s hidden: CHURNLAB_TRACEBACK=1 shows them)",
                        hidden, hidden == 1 ? "" : "s");
    if (hidden)
        luaL_addvalue(&b);
    luaL_pushresult(&b);
    lua_replace(L, tbi);
    lua_settop(L, tbi);
}

/* lua.c's message handler: a traceback for string errors, __tostring for objects. */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    /* the last frame is this host's own pcall: noise in every traceback */
    static const char host[] = "\n\t[C]: in ?";
    size_t len, hl = sizeof host - 1;
    const char *tb = lua_tolstring(L, -1, &len);
    if (len > hl && memcmp(tb + len - hl, host, hl) == 0)
        lua_pushlstring(L, tb, len - hl);
    user_traceback(L, msg);
    return 1;
}

/* Calls the function below narg arguments with Ctrl-C armed (nests: completion and the
 * printer call Lua from inside the REPL's own calls). */
static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    globalL = L;
    int outer = lua_running;
    if (!outer) {
        /* a press noted since the prompt (typed right after Enter) stops this call */
        int early = sigint_keeps && sigint_count > 0;
        sigint_count = early;
        if (early) {
            cl_progress_interrupt();
            lua_sethook(L, lstop, STOP_MASK, 1);
        }
    }
    lua_running = 1;
    int status = lua_pcall(L, narg, nres, base);
    lua_running = outer;
    if (!outer)
        lua_sethook(L, NULL, 0, 0); /* a Ctrl-C that came as the call returned */
    lua_remove(L, base);
    return status;
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK)
        status = docall(L, 0, 0);
    return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l name: global name = require(name) */
static int dolibrary(lua_State *L, const char *name)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    int status = docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, name);
    return report(L, status);
}

static void print_version(void)
{
    printf("churnlab %s (%s)\n", CL_VERSION_STRING, LUA_RELEASE);
    fflush(stdout);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the REPL's Lua half --------------------------------------------------------------- */

static int repl_ref = LUA_NOREF; /* registry reference to the churnlab.repl module */

/* Pushes repl.<name>. */
static int push_repl_field(lua_State *L, const char *name)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
    int t = lua_getfield(L, -1, name);
    lua_remove(L, -2);
    return t;
}

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int n = c ? atoi(c) : 0;
    return n >= 20 && n <= 1000 ? n : 80;
}

/* ---- history ----------------------------------------------------------------------------- */

static char *history_path; /* NULL: no history */
static int history_max = HISTORY_DEFAULT;
static int history_new;    /* entries added this session */

static void history_save(void)
{
    if (!history_path)
        return;
    int n = history_new < history_length ? history_new : history_length;
    int rc = 0;
    if (n > 0) {
        rc = append_history(n, history_path);
        if (rc == ENOENT)
            rc = write_history(history_path);
        if (rc == 0)
            rc = history_truncate_file(history_path, history_max);
    }
    if (rc != 0)
        fprintf(stderr, "churnlab: warning: cannot write history to '%s': %s\n", history_path,
                strerror(rc));
    clear_history();
    free(history_path);
    history_path = NULL;
}

static void history_open(void)
{
    const char *env = getenv("CHURNLAB_HISTORY");
    const char *size = getenv("CHURNLAB_HISTSIZE");
    if (size && *size) {
        char *end;
        long n = strtol(size, &end, 10);
        if (*end == '\0' && n >= 0 && n <= 1000000)
            history_max = (int)n;
        else
            fprintf(stderr, "churnlab: warning: CHURNLAB_HISTSIZE='%s' is not a count; using %d\n",
                    size, history_max);
    }
    if (env) {
        if (!*env || history_max == 0)
            return;
        history_path = strdup(env);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home || history_max == 0)
            return;
        size_t n = strlen(home) + sizeof "/.churnlab_history";
        history_path = malloc(n);
        if (history_path)
            snprintf(history_path, n, "%s/.churnlab_history", home);
    }
    if (!history_path)
        return;
    using_history();
    stifle_history(history_max);
    /* Multi-line chunks read back as one entry only when every entry is preceded by a
     * timestamp line, and readline writes one only when history_comment_char is set (its
     * default, NUL, makes every timestamp empty): without it a whole session read back as a
     * single entry. */
    history_comment_char = '#';
    history_write_timestamps = 1;
    history_multiline_entries = 1;
    int rc = read_history(history_path);
    if (rc != 0 && rc != ENOENT)
        fprintf(stderr, "churnlab: warning: cannot read history from '%s': %s\n", history_path,
                strerror(rc));
    atexit(history_save); /* also when the session ends with os.exit() */
}

static void history_add(const char *chunk)
{
    if (!history_path)
        return;
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (last && strcmp(last->line, chunk) == 0)
        return; /* like HISTCONTROL=ignoredups */
    add_history(chunk);
    history_new++;
}

/* ---- completion ------------------------------------------------------------------------- */

static char **completions; /* NULL-terminated, from repl.complete */
static size_t completion_next;

static void completions_free(void)
{
    if (completions) {
        for (size_t i = 0; completions[i]; i++)
            free(completions[i]);
        free(completions);
        completions = NULL;
    }
}

/* Runs protected: repl.complete(text, nil, line before text) -> completions. */
static int complete_lua(lua_State *L)
{
    const char *text = lua_touserdata(L, 1);
    int start = (int)lua_tointeger(L, 2);
    push_repl_field(L, "complete");
    lua_pushstring(L, text);
    lua_pushnil(L); /* env: the globals */
    lua_pushlstring(L, rl_line_buffer, start > 0 && start <= rl_end ? (size_t)start : 0);
    lua_call(L, 3, 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, -1);
    if (n < 0 || n > 100000)
        n = 0;
    completions = calloc((size_t)n + 1, sizeof *completions);
    if (!completions)
        return 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        const char *s = lua_tostring(L, -1);
        completions[i - 1] = strdup(s ? s : "");
        lua_pop(L, 1);
        if (!completions[i - 1])
            break;
    }
    return 0;
}

static char *completion_generator(const char *text, int state)
{
    (void)text;
    if (state == 0)
        completion_next = 0;
    if (!completions || !completions[completion_next])
        return NULL;
    return strdup(completions[completion_next++]);
}

static char lua_breaks[] = " \t\n\"\\'`@$><=;|&{(,)}[]+-*/%^#~";
static char string_breaks[] = " \t\n\"'";

/* Inside a string literal a word is a file name ("../data/x.csv"), so '/' and friends do not
 * break it; elsewhere '.' and ':' do not, so "cl.tensor.ze" and "t:su" are one word. */
static char *word_breaks(void)
{
    int q = 0;
    for (int i = 0; i < rl_point && rl_line_buffer[i]; i++) {
        char c = rl_line_buffer[i];
        if (q) {
            if (c == '\\' && rl_line_buffer[i + 1])
                i++;
            else if (c == q)
                q = 0;
        } else if (c == '"' || c == '\'') {
            q = c;
        } else if (c == '-' && rl_line_buffer[i + 1] == '-') {
            break; /* a comment */
        }
    }
    return q ? string_breaks : lua_breaks;
}

static char **attempt_completion(const char *text, int start, int end)
{
    (void)end;
    if (rl_completion_quote_character) /* inside a string: complete file names */
        return NULL;
    rl_attempted_completion_over = 1;
    rl_completion_append_character = '\0'; /* readline resets it before every completion */
    lua_State *L = globalL;
    completions_free();
    lua_pushcfunction(L, complete_lua);
    lua_pushlightuserdata(L, (void *)text);
    lua_pushinteger(L, start);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK)
        lua_pop(L, 1); /* no candidates rather than an error in the middle of a line */
    char **m = NULL;
    if (completions && completions[0])
        m = rl_completion_matches(text, completion_generator);
    completions_free();
    return m;
}

/* ---- reading input -------------------------------------------------------------------- */

typedef enum { LINE_OK, LINE_EOF, LINE_INTR } line_status;

static int interactive; /* stdin is a terminal: readline, prompts, history */
static int use_color;   /* stdout is a terminal and NO_COLOR is unset */

static char *rl_result;
static int rl_finished;
static int tty_fd = -1;        /* the terminal, opened again non-blocking for tty_getc */
static sigset_t tty_waitmask; /* the signal mask while waiting for a key */

/* readline's getc. A Ctrl-C makes the terminal drop its unread input, so a key pselect() has
 * just reported may be gone when read() runs: a blocking read would then wait, with SIGINT
 * blocked, for the next key and the Ctrl-C would go unseen. This reads a descriptor of its
 * own with O_NONBLOCK (its own open file description: the shell's stays blocking) and waits
 * in pselect() with SIGINT open. After a Ctrl-C it returns readline's abort key (^G), which
 * ends a search or a completion question; the prompt loop then clears the line. */
static int tty_getc(FILE *stream)
{
    (void)stream;
    for (;;) {
        if (sigint_count)
            return 'G' & 0x1f;
        unsigned char c;
        ssize_t n = read(tty_fd, &c, 1);
        if (n == 1)
            return c;
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return EOF;
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(tty_fd, &fds);
        pselect(tty_fd + 1, &fds, NULL, NULL, NULL, &tty_waitmask);
    }
}

static void on_line(char *line)
{
    rl_result = line;
    rl_finished = 1;
    rl_callback_handler_remove();
}

/* One line from the terminal through readline's callback interface. Ctrl-C clears the line
 * (LINE_INTR); Ctrl-D on an empty line is LINE_EOF. *out is malloc'd. SIGINT and SIGWINCH
 * are blocked except inside pselect(), so a Ctrl-C is never lost between checks. */
static line_status read_tty(const char *prompt, char **out)
{
    struct sigaction old_winch;
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGWINCH);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGWINCH);
    tty_waitmask = waitmask;
    rl_result = NULL;
    rl_finished = 0;
    sigint_count = 0; /* a press between statements is spent: its statement is over */
    set_handler(SIGWINCH, on_sigwinch, 0, &old_winch);
    rl_callback_handler_install(prompt, on_line);
    line_status st = LINE_OK;
    while (!rl_finished) {
        fd_set fds;
        int fd = tty_fd >= 0 ? tty_fd : fileno(rl_instream);
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        /* A Ctrl-C may already have been taken inside tty_getc's own pselect (readline then
         * aborted the key with ^G and a bell): waiting here first would sleep until the next
         * key, with the press unanswered. */
        int r = sigint_count ? 0 : pselect(fd + 1, &fds, NULL, NULL, NULL, &waitmask);
        if (sigwinch_seen) {
            sigwinch_seen = 0;
            rl_resize_terminal();
        }
        if (sigint_count) { /* show the abandoned line with ^C, start afresh */
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_point = rl_end;
            rl_redisplay();
            rl_replace_line("", 0);
            rl_callback_handler_remove();
            fputs("^C\n", rl_outstream);
            fflush(rl_outstream);
            st = LINE_INTR;
            break;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rl_callback_handler_remove();
            st = LINE_EOF;
            break;
        }
        if (r > 0)
            rl_callback_read_char();
    }
    sigaction(SIGWINCH, &old_winch, NULL);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    sigint_count = 0;
    if (st == LINE_OK && !rl_result)
        st = LINE_EOF;
    if (st != LINE_OK) {
        free(rl_result);
        rl_result = NULL;
    }
    *out = rl_result;
    rl_result = NULL;
    return st;
}

static int input_lines; /* lines read from a pipe so far: piped chunks keep their line numbers */

/* One line from a pipe or file (no prompt), without its newline. */
static line_status read_pipe(char **out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        *out = NULL;
        return LINE_EOF;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    input_lines++;
    *out = line;
    return LINE_OK;
}

static line_status read_line(const char *prompt, char **out)
{
    if (interactive)
        return read_tty(prompt, out);
    return read_pipe(out);
}

/* ---- compiling a chunk ---------------------------------------------------------------- */

/* An error message means "the chunk is unfinished" when it ends at '<eof>' (lua.c). */
static int incomplete(lua_State *L, int status)
{
    if (status != LUA_ERRSYNTAX)
        return 0;
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    static const char mark[] = "<eof>";
    return msg && len >= sizeof mark - 1 && strcmp(msg + len - (sizeof mark - 1), mark) == 0;
}

enum { CHUNK_READY, CHUNK_MORE, CHUNK_ERROR };

static int chunk_line = 1; /* the input line a piped chunk starts on (1 at a terminal) */
static int chunk_is_expr;  /* the chunk compiled as 'return <chunk>' */

/* lua_load reader: chunk_line - 1 newlines, then the text, so that a piped statement's
 * errors and tracebacks name its line in the input ("stdin:12:"), not line 1 of its chunk.
 * The newlines cost the lexer O(line) per statement: negligible for piped sessions of
 * thousands of lines. */
typedef struct padded {
    int pad;
    const char *s;
    size_t len;
} padded;

static const char *padded_read(lua_State *L, void *ud, size_t *size)
{
    (void)L;
    static char nl[4096];
    padded *p = ud;
    if (p->pad > 0) {
        if (!nl[0])
            memset(nl, '\n', sizeof nl);
        size_t k = (size_t)p->pad < sizeof nl ? (size_t)p->pad : sizeof nl;
        p->pad -= (int)k;
        *size = k;
        return nl;
    }
    if (p->s) {
        const char *s = p->s;
        *size = p->len;
        p->s = NULL;
        return s;
    }
    *size = 0;
    return NULL;
}

static int load_chunk(lua_State *L, const char *s, size_t len)
{
    padded p = {chunk_line - 1, s, len};
    return lua_load(L, padded_read, &p, "=stdin", "t");
}

/* The text at the top of the stack with its top-level locals made globals by
 * repl.globalize (so `local y = 5` at the prompt is still there for the next statement);
 * nothing pushed when there is nothing to change or the rewrite fails. */
static int push_globalized(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
    lua_getfield(L, -1, "globalize");
    lua_remove(L, -2);
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

/* Compiles the chunk text at the top of the stack: 'return <chunk>' first, so an expression
 * prints its values, then the chunk as statements. Pushes the function (CHUNK_READY) or the
 * error message (CHUNK_ERROR) above the text, or pushes nothing (CHUNK_MORE: either form
 * stopped at '<eof>', so a further line may complete it). */
static int compile_chunk(lua_State *L)
{
    size_t len;
    lua_pushliteral(L, "return ");
    lua_pushvalue(L, -2);
    lua_concat(L, 2);
    const char *ret = lua_tolstring(L, -1, &len);
    int st_ret = load_chunk(L, ret, len);
    if (st_ret == LUA_OK) {
        lua_remove(L, -2);
        chunk_is_expr = 1;
        return CHUNK_READY;
    }
    int ret_more = incomplete(L, st_ret);
    lua_pop(L, 2); /* message, "return ..." */
    const char *chunk = lua_tolstring(L, -1, &len);
    int st = load_chunk(L, chunk, len);
    chunk_is_expr = 0;
    if (st == LUA_OK) {
        /* Compiles as written: now the same with its top-level locals kept as globals, used
         * when that compiles too (it always should; the original is the fallback). */
        lua_pushvalue(L, -2);
        if (push_globalized(L)) {
            const char *g = lua_tolstring(L, -1, &len);
            if (load_chunk(L, g, len) == LUA_OK) {
                lua_replace(L, -4); /* the new function replaces the original */
                lua_pop(L, 2);
                return CHUNK_READY;
            }
            lua_pop(L, 2); /* error, rewritten text */
        }
        lua_pop(L, 1);
        return CHUNK_READY;
    }
    if (incomplete(L, st) || ret_more) {
        lua_pop(L, 1);
        return CHUNK_MORE;
    }
    return CHUNK_ERROR;
}

/* ---- the REPL ------------------------------------------------------------------------- */

enum { READ_RUN, READ_SKIP, READ_QUIT, READ_EOF, READ_ERROR, READ_BADCMD };

/* Runs a ':' command in Lua. Returns READ_QUIT, READ_SKIP or READ_BADCMD (it failed). */
static int run_command(lua_State *L, const char *line)
{
    push_repl_field(L, "command");
    lua_pushstring(L, line);
    int status = docall(L, 1, 1);
    if (status != LUA_OK) {
        report(L, status);
        return READ_BADCMD;
    }
    int quit = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "quit") == 0;
    int bad = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    fflush(stdout);
    return quit ? READ_QUIT : bad ? READ_BADCMD : READ_SKIP;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return 0;
    return 1;
}

/* Reads one complete chunk and compiles it: READ_RUN leaves the function on the stack,
 * READ_ERROR the message. */
static int read_chunk(lua_State *L)
{
    char *line;
    line_status st = read_line(PROMPT1, &line);
    if (st == LINE_EOF)
        return READ_EOF;
    if (st == LINE_INTR)
        return READ_SKIP;
    if (blank(line)) {
        free(line);
        return READ_SKIP;
    }
    if (line[0] == ':' && line[1] != ':') { /* '::label::' is Lua */
        history_add(line);
        int r = run_command(L, line);
        free(line);
        return r;
    }
    if (line[0] == '=') /* Lua 5.1's '=expr' still works */
        line[0] = ' ';
    chunk_line = interactive ? 1 : input_lines;
    lua_pushstring(L, line);
    free(line);
    int c;
    while ((c = compile_chunk(L)) == CHUNK_MORE) {
        st = read_line(PROMPT2, &line);
        if (st == LINE_INTR) {
            lua_pop(L, 1);
            return READ_SKIP;
        }
        if (st == LINE_EOF) { /* report the unfinished chunk's own error */
            size_t len;
            const char *chunk = lua_tolstring(L, -1, &len);
            load_chunk(L, chunk, len);
            c = CHUNK_ERROR;
            if (interactive)
                fputc('\n', rl_outstream);
            break;
        }
        lua_pushliteral(L, "\n");
        lua_pushstring(L, line);
        free(line);
        lua_concat(L, 3);
    }
    history_add(lua_tostring(L, -2)); /* the whole chunk, one entry */
    lua_remove(L, -2);
    return c == CHUNK_READY ? READ_RUN : READ_ERROR;
}

/* Prints the n values on top of the stack through repl.show, armed for Ctrl-C. */
static int print_results(lua_State *L, int n)
{
    push_repl_field(L, "show");
    lua_insert(L, -(n + 1));
    lua_pushinteger(L, terminal_width());
    lua_insert(L, -(n + 1));
    lua_pushboolean(L, use_color);
    lua_insert(L, -(n + 1));
    return docall(L, n + 2, 0);
}

static int timing_on(lua_State *L)
{
    int on = 0;
    if (push_repl_field(L, "options") == LUA_TTABLE) { /* a user may have replaced it */
        lua_getfield(L, -1, "timing");
        on = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return on;
}

static void print_time(lua_State *L, double secs)
{
    push_repl_field(L, "format_time");
    lua_pushnumber(L, secs);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_isstring(L, -1))
        printf("%s(%s)%s\n", use_color ? "\033[90m" : "", lua_tostring(L, -1),
               use_color ? "\033[0m" : "");
    lua_pop(L, 1);
}

/* The read-eval-print loop. Returns the process exit status. */
static int repl(lua_State *L)
{
    interactive = isatty(STDIN_FILENO);
    const char *nc = getenv("NO_COLOR");
    int color_ok = !(nc && *nc);
    use_color = interactive && color_ok && isatty(STDOUT_FILENO);
    err_color = interactive && color_ok && isatty(STDERR_FILENO);
    const char *pname = progname;
    progname = NULL; /* lua.c: no program name before REPL errors */

    lua_getglobal(L, "require");
    lua_pushliteral(L, "churnlab.repl");
    if (report(L, docall(L, 1, 1)) != LUA_OK)
        return 1;
    lua_pushvalue(L, -1);
    repl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "bind");
    lua_remove(L, -2);
    if (report(L, docall(L, 0, 0)) != LUA_OK)
        return 1;

    if (interactive) {
        sigint_keeps = 1; /* at a terminal Ctrl-C outside Lua clears the line */
        rl_catch_signals = 0;
        rl_catch_sigwinch = 0;
        const char *tty = ttyname(STDIN_FILENO);
        tty_fd = tty ? open(tty, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
        if (tty_fd >= 0)
            rl_getc_function = tty_getc;
        rl_readline_name = "churnlab";
        rl_attempted_completion_function = attempt_completion;
        rl_completer_word_break_characters = lua_breaks;
        rl_completion_word_break_hook = word_breaks;
        rl_completer_quote_characters = "\"'";
        history_open();
        /* output redirected (churnlab > log): prompts and the banner stay on the terminal */
        rl_outstream = isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO) ? stdout : stderr;
        fprintf(rl_outstream, "churnlab %s (%s)\n", CL_VERSION_STRING, LUA_RELEASE);
        fprintf(rl_outstream, "help() for an overview, :help for REPL commands, Ctrl-D to leave\n");
        fflush(rl_outstream);
    }
    int failed = 0, interrupted = 0;
    for (;;) {
        int top = lua_gettop(L);
        int r = read_chunk(L);
        if (r == READ_EOF || r == READ_QUIT)
            break;
        if (r == READ_SKIP)
            continue;
        if (r == READ_BADCMD) {
            failed = 1;
            continue;
        }
        int status = LUA_ERRSYNTAX;
        if (r == READ_RUN) {
            int timed = timing_on(L);
            lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref); /* repl.width, for help() */
            lua_pushinteger(L, terminal_width());
            lua_setfield(L, -2, "width");
            lua_pop(L, 1);
            double t0 = now_s();
            status = docall(L, 0, LUA_MULTRET);
            double dt = now_s() - t0;
            if (status == LUA_OK) {
                int n = lua_gettop(L) - top;
                if (n > 0 && chunk_is_expr) { /* `_` is the last expression's (first) value */
                    lua_pushvalue(L, top + 1);
                    lua_setglobal(L, "_");
                }
                if (n > 0)
                    status = print_results(L, n);
                if (timed)
                    print_time(L, dt);
            }
        }
        if (sigint_count || cl_progress_interrupted()) { /* Ctrl-C: drop it, keep the session */
            interrupted = 1;
            cl_progress_interrupt_clear();
            sigint_count = 0;
        }
        if (status != LUA_OK) {
            failed = 1;
            if (interrupted && interactive)
                fputc('\n', stderr); /* after the terminal's echoed ^C */
            report(L, status);
        }
        lua_settop(L, top);
        fflush(stdout);
        if (interrupted && !interactive)
            break; /* Ctrl-C on a piped session stops it, like a script */
    }
    if (interactive) {
        fputc('\n', rl_outstream);
        fflush(rl_outstream);
        if (tty_fd >= 0) {
            rl_getc_function = rl_getc;
            close(tty_fd);
            tty_fd = -1;
        }
        sigint_keeps = 0;
    }
    fflush(stdout);
    progname = pname;
    if (interrupted && !interactive)
        return 130;
    return failed && !interactive ? 1 : 0;
}

/* registry["churnlab.embedded_source"](path) -> the text of an embedded Lua module
 * ("lua/churnlab/plot.lua") or nothing: help() reads the comment above a Lua function even in
 * an installed binary, where the source tree is gone. */
static int embedded_source(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    for (const lcl_embedded *m = lcl_embedded_modules; m->name; m++) {
        if (strcmp(m->path, path) == 0) {
            lua_pushlstring(L, m->src, m->len);
            return 1;
        }
    }
    return 0;
}

/* ---- options (lua.c's collectargs) ---------------------------------------------------- */

#define HAS_ERROR 1
#define HAS_I 2
#define HAS_V 4
#define HAS_E 8
#define HAS_H 16

/* Scans the options; *first is the script's index (argc when none), or the bad option's. */
static int collectargs(int argc, char **argv, int *first)
{
    int args = 0;
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        *first = i;
        if (a[0] != '-')
            return args; /* the script */
        if (strcmp(a, "-") == 0)
            return args; /* script from stdin */
        if (strcmp(a, "--") == 0) {
            *first = i + 1;
            return args;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0)
            args |= HAS_V;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            args |= HAS_H;
        else if (strcmp(a, "-i") == 0)
            args |= HAS_I | HAS_V;
        else if (a[1] == 'e' || a[1] == 'l') {
            if (a[1] == 'e')
                args |= HAS_E;
            if (a[2] == '\0') { /* the code or name is the next argument */
                i++;
                if (i >= argc || argv[i][0] == '-')
                    return HAS_ERROR;
            }
        } else
            return HAS_ERROR;
    }
    *first = argc;
    return args;
}

/* Runs -e and -l in order. Returns 0 if one failed. */
static int runargs(lua_State *L, char **argv, int n)
{
    for (int i = 1; i < n; i++) {
        char opt = argv[i][1];
        if (argv[i][0] != '-' || (opt != 'e' && opt != 'l'))
            continue;
        const char *extra = argv[i] + 2;
        if (*extra == '\0')
            extra = argv[++i];
        int status = opt == 'e' ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
        if (status != LUA_OK)
            return 0;
    }
    return 1;
}

/* arg = {[0] = script, args..., [-1] = last option, ..., [-k] = argv[0]} */
static void createargtable(lua_State *L, char **argv, int argc, int script)
{
    if (script == argc)
        script = 0; /* no script: arg[0] is the program name */
    int narg = argc - (script + 1);
    lua_createtable(L, narg, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* With -i the script is loaded through repl.loadfile, which keeps its top-level locals as
 * globals for the session that follows (they would die with the chunk otherwise). */
static int load_script(lua_State *L, const char *fname, int keep_locals)
{
    if (!keep_locals || !fname)
        return luaL_loadfile(L, fname);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "churnlab.repl");
    int status = docall(L, 1, 1);
    if (status != LUA_OK)
        return status;
    lua_getfield(L, -1, "loadfile");
    lua_remove(L, -2);
    lua_pushstring(L, fname);
    status = docall(L, 1, 2);
    if (status != LUA_OK)
        return status;
    if (lua_isnil(L, -2)) { /* nil, message */
        lua_remove(L, -2);
        return LUA_ERRFILE;
    }
    lua_pop(L, 1);
    return LUA_OK;
}

/* `churnlab serve ...`: the embedded module churnlab.serve_cli runs with the arguments in
 * `arg` (arg[0] = "serve"); a script file named serve is run as ./serve. */
static int run_serve(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "churnlab.serve_cli");
    int status = docall(L, 1, 1);
    if (status == LUA_OK) {
        lua_getfield(L, -1, "main");
        lua_getglobal(L, "arg");
        status = docall(L, 1, 0);
    }
    return report(L, status);
}

static int handle_script(lua_State *L, char **argv, int keep_locals)
{
    const char *fname = argv[0];
    if (strcmp(fname, "-") == 0)
        fname = NULL; /* stdin */
    int status = load_script(L, fname, keep_locals);
    if (status == LUA_OK) {
        lua_getglobal(L, "arg");
        if (!lua_istable(L, -1))
            luaL_error(L, "'arg' is not a table");
        int n = (int)luaL_len(L, -1);
        luaL_checkstack(L, n + 3, "too many arguments to script");
        for (int i = 1; i <= n; i++)
            lua_rawgeti(L, -i, i);
        lua_remove(L, -(n + 1));
        status = docall(L, n, 0);
    }
    return report(L, status);
}

typedef struct run_state {
    int argc;
    char **argv;
    int exit_code;
} run_state;

/* Everything runs in protected mode (lua.c's pmain), so even an error outside any
 * statement (out of memory while opening the libraries) is a message, not a crash. */
static int pmain(lua_State *L)
{
    run_state *rs = lua_touserdata(L, 1);
    int argc = rs->argc;
    char **argv = rs->argv;
    int script = argc;
    int args = collectargs(argc, argv, &script);
    if (args == HAS_ERROR) {
        if (script < argc && (strcmp(argv[script], "-e") == 0 || strcmp(argv[script], "-l") == 0))
            fprintf(stderr, "%s: '%s' needs an argument\n", progname, argv[script]);
        else
            fprintf(stderr, "%s: unrecognized option '%s'\n", progname, argv[script]);
        fputs(USAGE, stderr);
        rs->exit_code = 2;
        return 0;
    }
    if (args & HAS_H) {
        fputs(USAGE, stdout);
        fputs(HELP, stdout);
        rs->exit_code = 0;
        return 0;
    }
    if ((args & HAS_V) && !(args & HAS_I))
        print_version();
    luaL_checkversion(L);
    luaL_openlibs(L);
    lcl_openlibs(L);
    lua_pushcfunction(L, embedded_source);
    lua_setfield(L, LUA_REGISTRYINDEX, "churnlab.embedded_source");
    lua_gc(L, LUA_GCRESTART); /* incremental, Lua's default */
    createargtable(L, argv, argc, script);
    int ok = runargs(L, argv, script);
    if (ok && script < argc && strcmp(argv[script], "serve") == 0)
        ok = run_serve(L) == LUA_OK;
    else if (ok && script < argc)
        ok = handle_script(L, argv + script, (args & HAS_I) != 0) == LUA_OK;
    int code = ok ? 0 : (sigint_count || cl_progress_interrupted() ? 130 : 1);
    if (args & HAS_I) {
        cl_progress_interrupt_clear();
        int r = repl(L);
        /* a terminal session's status is its own; a piped one also reports the script's */
        code = r != 0 || isatty(STDIN_FILENO) ? r : code;
    } else if (ok && script == argc && !(args & (HAS_E | HAS_V))) {
        code = repl(L);
    }
    rs->exit_code = code;
    return 0;
}

/* ---- address space ------------------------------------------------------------------ */

/* OpenBLAS's constructor maps one large buffer per thread (CL_THREADS_BLAS_BUFFER), one
 * thread per core unless OMP_NUM_THREADS says fewer, and retries a failed mmap for ever: under
 * `ulimit -v` churnlab would spin before main(). A DT_PREINIT_ARRAY entry of the executable
 * runs before every shared library's constructor, so it can still lower OMP_NUM_THREADS (the
 * variable the OpenMP build of OpenBLAS reads) to what fits, or stop with a message when not
 * even one thread fits. Nothing happens without a limit. */
static void fit_address_space(int argc, char **argv, char **envp)
{
    (void)argc;
    int room = cl_threads_room(0, 0);
    if (room == INT_MAX)
        return;
    if (room < 1) {
        struct rlimit rl;
        getrlimit(RLIMIT_AS, &rl);
        char msg[400];
        int len = snprintf(msg, sizeof msg,
                           "churnlab: the address-space limit (ulimit -v) of %lu MB is too small: "
                           "OpenBLAS alone maps %lu MB at start-up on top of the %lu MB already "
                           "mapped; raise it to at least %lu MB\n",
                           (unsigned long)(rl.rlim_cur >> 20),
                           (unsigned long)(CL_THREADS_BLAS_BUFFER >> 20),
                           (unsigned long)(cl_threads_mapped() >> 20),
                           (unsigned long)((cl_threads_mapped() + CL_THREADS_BLAS_BUFFER) >> 20) +
                               1);
        if (len > 0)
            (void)!write(2, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
        _exit(1); /* no constructor has run yet: nothing to clean up, nothing to flush */
    }
    /* envp, not getenv(): libc has not set environ up yet */
    const char *env = NULL;
    size_t n = 0;
    for (; envp[n]; n++)
        if (strncmp(envp[n], "OMP_NUM_THREADS=", 16) == 0)
            env = envp[n] + 16;
    long procs = sysconf(_SC_NPROCESSORS_CONF); /* an upper bound of OpenBLAS's count */
    long want = env && atoi(env) > 0 ? atoi(env) : procs;
    if (want > procs && procs > 0)
        want = procs;
    if (want <= room)
        return;
    /* Changing the environment here is lost (libc's initialisation, still to come, points
     * environ at the original block), so run again with OMP_NUM_THREADS lowered to what fits;
     * the new image finds want <= room and goes on. */
    static char var[32];
    snprintf(var, sizeof var, "OMP_NUM_THREADS=%d", room);
    char **env2 = malloc((n + 2) * sizeof *env2);
    if (env2) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (strncmp(envp[i], "OMP_NUM_THREADS=", 16) != 0)
                env2[k++] = envp[i];
        env2[k++] = var;
        env2[k] = NULL;
        execve("/proc/self/exe", argv, env2);
    }
    static const char msg[] = "churnlab: cannot lower OMP_NUM_THREADS to fit the address-space "
                              "limit (ulimit -v); set OMP_NUM_THREADS=1 and run again\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

__attribute__((used, section(".preinit_array"))) static void (*const preinit_fit)(
    int, char **, char **) = fit_address_space;

int main(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        l_message(progname, "cannot create the Lua state: not enough memory");
        return 1;
    }
    globalL = L;
    /* like lua.c, whatever was inherited: a shell starts background jobs with SIGINT
     * ignored, and `kill -INT` must still stop a script run that way */
    set_handler(SIGINT, on_sigint, SA_RESTART, NULL);
    run_state rs = {argc, argv, 1};
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &rs);
    int status = lua_pcall(L, 1, 1, 0);
    if (status != LUA_OK) {
        report(L, status);
        rs.exit_code = 1;
    }
    if (repl_ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, repl_ref);
    lua_close(L);
    /* an MPI run: finalise, or take the other ranks down after an error (core/base/dist.h) */
    cl_dist_shutdown(rs.exit_code);
    return rs.exit_code;
}
