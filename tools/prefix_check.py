#!/usr/bin/env python3
"""prefix_check.py - lists the core names that are not on their file's prefix; exits 1 if any.

    python3 tools/prefix_check.py [--objects build/release] [--allow tools/prefix_check.allow]
                                  [--map tools/rename_exports.map] [--map-status]

Issue 14: "every file name is its prefix", so that a name says which file defines it and a file
says what its names start with.  The rule, for every symbol a compiled core object defines with
external linkage (nm: functions and data; types, enums and macros are no symbols and are not
checked):

  * core/<dir>/<stem>.c (and core/<stem>.c) defines only cl_<stem> and cl_<stem>_*; data in
    upper case may be CL_<STEM>_* instead (CL_PIPELINE_SCALE_NAMES in pipeline.c);
  * the stem is the whole file name: synth_world.c holds cl_synth_world_*, not cl_synth_*.  A file
    that is one type's API is named after the type (frame/col.c holds cl_col_*), the folder
    keeps it findable; a file holding one concern of a subsystem adds the concern to the
    subsystem's prefix (tensor_ops.c: cl_tensor_ops_matmul).  Names internal to a subsystem
    (shared through an *_impl.h) follow the same rule: external linkage is a name in the link
    namespace all the same;
  * `#pragma omp critical(name)` makes a symbol .gomp_critical_user_<name>; its name is checked.

It also checks the lifecycle verbs of the prototypes in core's headers: a function named *_save
or *_load takes a path (a parameter named path) and no model-file writer/reader (cl_mw, cl_mr);
one that takes a writer/reader is *_write / *_read.  A *_fit (or *_fit_<variant>: _fit_w,
_fit_dist, _fit_transform) fits the object it is given, so its first parameter is not a
pointer to a pointer (`cl_x **out`): that is a constructor, *_new (issue 14: "_new constructs,
_fit fits"); other out-pointers after the object (fit_transform's tensors) are outputs.

--map checks the tree as tools/rename_exports.sh will leave it: files moved by the map's
file/path records and names renamed by its name records (chains followed), so a map can be
shown complete before it is run.  --map-status prints how many of the map's records are still
to apply and exits 3 when some are (0 when none).

An allow-list line `core/<dir>/<file>.c symbol` (or `file symbol` for a verb finding, with the
header's path) excuses one finding; the list must stay empty (tests/e2e/prefix_check.sh).
"""
import argparse
import os
import re
import subprocess
import sys

GOMP = ".gomp_critical_user_"
PROTO_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(([^;{}()]*(?:\([^()]*\)[^;{}()]*)*)\)\s*;")
COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def read_map(path):
    """(files {old stem: new stem}, paths {old: new}, names {old: new}) of a rename map."""
    files, paths, names = {}, {}, {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            f = line.split("#", 1)[0].split()
            if len(f) == 3 and f[0] in ("file", "path", "name"):
                {"file": files, "path": paths, "name": names}[f[0]][f[1]] = f[2]
    for old in list(names):  # a later record may rename an earlier record's new name
        new, hops = names[old], 0
        while new in names and hops < 50:
            new, hops = names[new], hops + 1
        names[old] = new
    return files, paths, names


def defined_symbols(top, objdir):
    """[(source .c path, nm kind, symbol)] for every external symbol the core objects define."""
    out, objects = [], 0
    for dirpath, _dirs, files in os.walk(os.path.join(objdir, "core")):
        for f in sorted(files):
            if not f.endswith(".o"):
                continue
            obj = os.path.join(dirpath, f)
            src = os.path.relpath(obj, objdir)[:-2] + ".c"
            if not os.path.isfile(os.path.join(top, src)):
                continue  # a stale object of a moved or removed file
            objects += 1
            res = subprocess.run(["nm", "-P", "--defined-only", obj], capture_output=True,
                                 text=True, check=True)
            for line in res.stdout.splitlines():
                parts = line.split()
                # lower case: local linkage. Names that begin with "__" are reserved to the
                # implementation (C11 7.1.3), so never ours: the sanitizers add some, e.g.
                # AddressSanitizer's ODR indicators "__odr_asan.<name>" for every global.
                if len(parts) >= 2 and parts[1].isupper() and not parts[0].startswith("__"):
                    out.append((src, parts[1], parts[0]))
    return out, objects


def on_prefix(src, sym):
    stem = os.path.splitext(os.path.basename(src))[0]
    if sym.startswith(GOMP):
        sym = sym[len(GOMP):]
    for p in ("cl_" + stem, "CL_" + stem.upper()):
        if sym == p or sym.startswith(p + "_"):
            return True
    return False


def moved(src, files):
    stem = os.path.splitext(src)[0]
    return files.get(stem, stem) + ".c"


def header_protos(top):
    """[(header path, function name, parameter text)] of the prototypes in core's headers."""
    out = []
    for dirpath, _dirs, fs in os.walk(os.path.join(top, "core")):
        for f in sorted(fs):
            if not f.endswith(".h"):
                continue
            path = os.path.join(dirpath, f)
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = COMMENT_RE.sub(" ", fh.read())
            text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
            for m in PROTO_RE.finditer(text):
                out.append((os.path.relpath(path, top), m.group(1), m.group(2)))
    return out


def first_param(params):
    """The text of the first parameter of a prototype's parameter list."""
    depth = 0
    for i, ch in enumerate(params):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            return params[:i]
    return params


def verb_problem(name, params):
    if re.search(r"_fit(_|$)", name) and "**" in first_param(params).replace(" ", ""):
        return "constructs through its first parameter (%s): _new constructs, _fit fits the " \
               "object it is given" % " ".join(first_param(params).split())
    verb = name.rsplit("_", 1)[-1]
    if verb not in ("save", "load") or "_" not in name:
        return None
    if re.search(r"\bcl_m[wr]\b", params) and not re.search(r"\bpath\b", params):
        return "takes a model-file %s: _save/_load take a path, so call it _%s" % (
            "writer (cl_mw)" if "cl_mw" in params else "reader (cl_mr)",
            "write" if verb == "save" else "read")
    if not re.search(r"\bpath\b", params):
        return "takes no path: _save/_load take a path"
    return None


def read_allow(path):
    allowed = set()
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                f = line.split("#", 1)[0].split()
                if len(f) == 2:
                    allowed.add(tuple(f))
    return allowed


def pending_records(top, mapfile, symbols):
    files, paths, names = read_map(mapfile)
    defined = {s for _src, _k, s in symbols}
    pending = ["file " + o for o in files
            if any(os.path.exists(os.path.join(top, o + e)) for e in (".c", ".h"))]
    pending += ["path " + o for o in paths if os.path.exists(os.path.join(top, o))]
    pending += ["name " + o for o in names if o in defined]
    return pending, len(files) + len(paths) + len(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--objects", default=None, help="build variant (default build/release)")
    ap.add_argument("--allow", default=None, help="allow-list (default tools/prefix_check.allow)")
    ap.add_argument("--map", default=None, help="check the tree as this rename map leaves it")
    ap.add_argument("--map-status", action="store_true",
                    help="print the records of --map (default tools/rename_exports.map) still "
                         "to apply; exit 3 when there are some")
    args = ap.parse_args()
    top = os.path.normpath(args.top)
    objdir = args.objects or os.path.join(top, "build", "release")
    symbols, objects = defined_symbols(top, objdir)
    if not objects:
        print("prefix check: no core objects under %s/core (build first)" % objdir)
        return 2

    if args.map_status:
        mapfile = args.map or os.path.join(top, "tools", "rename_exports.map")
        pending, total = pending_records(top, mapfile, symbols)
        print("rename map: %d of %d records still to apply%s" % (
            len(pending), total, (" (" + ", ".join(pending[:5]) + (", ..." if len(pending) > 5 else "")
                               + ")") if pending else ""))
        return 3 if pending else 0

    files, names = {}, {}
    if args.map:
        files, _paths, names = read_map(args.map)
    allowed = read_allow(args.allow or os.path.join(top, "tools", "prefix_check.allow"))

    bad = used_allow = 0
    for src, kind, sym in symbols:
        src2 = moved(src, files)
        sym2 = GOMP + names.get(sym[len(GOMP):], sym[len(GOMP):]) if sym.startswith(GOMP) \
            else names.get(sym, sym)
        if on_prefix(src2, sym2):
            continue
        if (src2, sym2) in allowed:
            used_allow += 1
            continue
        bad += 1
        stem = os.path.splitext(os.path.basename(src2))[0]
        print("%s: %s %s is not on cl_%s_" % (src2, "data" if kind in "DRBVGSC" else "function",
                                              sym2, stem))
    protos = header_protos(top)
    for hdr, name, params in protos:
        name2 = names.get(name, name)
        why = verb_problem(name2, params)
        if not why:
            continue
        if (hdr, name2) in allowed:
            used_allow += 1
            continue
        bad += 1
        print("%s: %s %s" % (hdr, name2, why))
    print("prefix check%s: %d objects, %d symbols, %d prototypes, %d finding(s), %d allowed"
          % (" (after %s)" % args.map if args.map else "", objects, len(symbols), len(protos),
             bad + used_allow, used_allow))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
