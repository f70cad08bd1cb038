#!/usr/bin/env python3
"""include_graph.py - prints the include circles of core/ and lua/ and exits 1 when there is one.

    python3 tools/include_graph.py [--objects build/release] [--allow tools/include_graph.allow]

DESIGN.md wants the folders (and the files inside them) to form a DAG: base <- tensor <- eval
<- models <- trees ..., so that a reader (or a linker) can take the code bottom-up.  A circle
hides easily: two .c files that include each other's headers compile fine.  This checker reads
the `#include "..."` lines of every .c/.h under core/ and lua/ and builds two graphs:

  * modules: a file pair x.c/x.h is one node (x_impl.h is its own node, the interface a
    subsystem's files share); A -> B when a file of A includes B's header;
  * folders: core/<subsystem>, core (its root files), lua/<part>; A -> B likewise.

With --objects it also reads the symbols of the compiled objects (nm), because an include
graph misses a dependency that goes through a declaration living in another module's header
(`extern const cl_model_ops *const cl_model_kinds[]` declared in models/model.h but defined in
core/model_kinds.c made model.c <-> model_kinds.c a circle that no #include showed).  Link
edges count at folder level only: inside one subsystem, files may well call one another.

Each strongly connected component with more than one node is a circle; one closed path through
it is printed.  A circle whose nodes all lie inside one line of the allow-list (nodes separated
by spaces, `#` comments) is reported as allowed and does not fail the run.
"""
import argparse
import os
import re
import subprocess
import sys

ROOTS = ("core", "lua")
INCLUDE_DIRS = ("core", "lua")  # the -I paths of the Makefile, besides the file's own folder
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def module_of(path):
    """core/models/model.c -> core/models/model: x.c, x.h and x's internals x_impl.h are one
    node (STYLE.md: internals in *_impl.h), so x.c including x_impl.h including x.h is no
    circle."""
    stem = os.path.splitext(path)[0]
    return stem[:-len("_impl")] if stem.endswith("_impl") else stem


def folder_of(path):
    """core/trees/gbdt.c -> core/trees; core/model_kinds.c -> core; lua/bind/x.c -> lua/bind."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def sources(top):
    out = []
    for root in ROOTS:
        for dirpath, _dirs, files in os.walk(os.path.join(top, root)):
            for f in files:
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(dirpath, f), top))
    return sorted(out)


def resolve(top, src, name):
    """The tree-relative path an #include names, or None (system or generated headers)."""
    for base in (os.path.dirname(src),) + INCLUDE_DIRS:
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(top, cand)):
            return cand
    return None


def include_edges(top, files):
    edges = []
    for src in files:
        with open(os.path.join(top, src), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = INCLUDE_RE.match(line)
                if m:
                    dst = resolve(top, src, m.group(1))
                    if dst:
                        edges.append((src, dst))
    return edges


def link_edges(top, objdir):
    """(object's source, defining source, symbol) for every symbol of ours an object uses."""
    defined, used = {}, []
    walk = [w for root in ROOTS for w in os.walk(os.path.join(objdir, root))]
    for dirpath, _dirs, files in walk:
        for f in files:
            if not f.endswith(".o"):
                continue
            obj = os.path.join(dirpath, f)
            src = os.path.relpath(obj, objdir)[:-2] + ".c"
            if not os.path.isfile(os.path.join(top, src)):
                continue  # a stale object of a removed file
            res = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True)
            for line in res.stdout.splitlines():
                parts = line.split()
                if len(parts) < 2:
                    continue
                sym, kind = parts[0], parts[1]
                if kind == "U":
                    used.append((src, sym))
                elif kind in "TDRBVW" and kind.isupper():
                    defined[sym] = src
    return [(src, defined[sym], sym) for src, sym in used if sym in defined]


def graph(edges, node):
    g = {}
    for a, b, *_ in edges:
        na, nb = node(a), node(b)
        g.setdefault(na, set())
        g.setdefault(nb, set())
        if na != nb:
            g[na].add(nb)
    return g


def components(g):
    """Tarjan's strongly connected components (iterative: deep chains stay off the C stack)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(sorted(comp))
            elif nxt not in index:
                index[nxt] = low[nxt] = counter[0]
                counter[0] += 1
                stack.append(nxt)
                on.add(nxt)
                work.append((nxt, iter(sorted(g[nxt]))))
            elif nxt in on:
                low[v] = min(low[v], index[nxt])
    return [c for c in out if len(c) > 1]


def closed_path(g, comp):
    """One circle through comp's first node: a breadth-first way back to it inside comp."""
    start, members = comp[0], set(comp)
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(g[v]):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


def read_allow(path):
    allowed = []
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                nodes = line.split("#", 1)[0].split()
                if nodes:
                    allowed.append(set(nodes))
    return allowed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--objects", help="a build variant (build/release): add link edges")
    ap.add_argument("--allow", default=None, help="allow-list (default tools/include_graph.allow)")
    args = ap.parse_args()
    top = os.path.normpath(args.top)
    allow_path = args.allow or os.path.join(top, "tools", "include_graph.allow")
    allowed = read_allow(allow_path)

    files = sources(top)
    inc = include_edges(top, files)
    checks = [("modules", graph(inc, module_of)), ("folders", graph(inc, folder_of))]
    why = {}  # a link edge between folders -> one (file, symbol, file) that makes it
    if args.objects:
        links = link_edges(top, args.objects)
        for a, b, sym in links:
            why.setdefault((folder_of(a), folder_of(b)), "%s uses %s of %s" % (a, sym, b))
        checks.append(("folders (link)", graph(links, folder_of)))

    bad = used_allow = 0
    for what, g in checks:
        for comp in components(g):
            ok = any(set(comp) <= a for a in allowed)
            used_allow += ok
            bad += not ok
            path = closed_path(g, comp)
            rest = sorted(set(comp) - set(path))
            print("%s circle%s: %s%s" % (what, " (allowed)" if ok else "", " -> ".join(path),
                                         " (with %s)" % ", ".join(rest) if rest else ""))
            for a, b in zip(path, path[1:]):
                if what.endswith("(link)"):
                    print("    " + why[(a, b)])
    print("include graph: %d files, %d include edges, %d circle(s), %d allowed"
          % (len(files), len(inc), bad + used_allow, used_allow))
    if allowed and not used_allow:
        print("note: %s lists circles that are gone; empty it" % allow_path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
