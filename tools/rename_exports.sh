#!/bin/sh
# Puts every exported core name on its file's prefix (issue 14), from tools/rename_exports.map:
#   file OLD NEW   git mv OLD.c/OLD.h to NEW.c/NEW.h and rewrite "dir/OLD.h" includes
#   path OLD NEW   git mv one file (tests/core mirrors core/)
#   name OLD NEW   replace the identifier OLD by NEW, whole words only
# It reads no line numbers, so it runs on any tree that has merged other work, and it is
# idempotent: a second run finds nothing to move and no old name left (a new name never holds an
# old one as a whole word, since \b does not split at '_').
# Usage: sh tools/rename_exports.sh [repo-root]   (default: the current directory)
set -eu
root=${1:-.}
cd "$root"
map=tools/rename_exports.map
[ -f "$map" ] || { echo "rename_exports: $map not found in $(pwd)" >&2; exit 1; }
scope="core lua tests scripts tools notebooks web Makefile README.md"

# 1. files: move each .c/.h pair and rewrite the includes that name it
grep '^file ' "$map" | while read -r _ old new; do
    for ext in c h; do
        if [ -e "$old.$ext" ] && [ ! -e "$new.$ext" ]; then git mv "$old.$ext" "$new.$ext"; fi
    done
    # includes are relative to core/: "analysis/kmeans.h"
    oinc=${old#core/}; ninc=${new#core/}
    git grep -lF "\"$oinc.h\"" -- $scope 2>/dev/null | while read -r f; do
        OINC="$oinc.h" NINC="$ninc.h" perl -pi -e 's/"\Q$ENV{OINC}\E"/"$ENV{NINC}"/g' "$f"
    done
done

# 2. single files (the tests that mirror a renamed core file)
grep '^path ' "$map" | while read -r _ old new; do
    if [ -e "$old" ] && [ ! -e "$new" ]; then git mv "$old" "$new"; fi
done

# 3. names: one perl pass over every tracked text file that holds any old name
grep '^name ' "$map" | awk '{print $2" "$3}' > "${TMPDIR:-/tmp}/rename_exports.$$"
pat=$(awk '{print $1}' "${TMPDIR:-/tmp}/rename_exports.$$" | paste -sd'|' -)
git grep -lIE "\\b($pat)\\b" -- $scope 2>/dev/null | grep -v '^tools/rename_exports\.' |
while read -r f; do
    MAP="${TMPDIR:-/tmp}/rename_exports.$$" perl -pi -e '
        BEGIN { open my $m, "<", $ENV{MAP} or die; while (<$m>) { chomp; my ($o, $n) = split / /; $r{$o} = $n }
                # a chain (a later record renames an earlier NEW) ends at its last name, so
                # one pass is enough on a tree that still holds the first old name
                for my $o (keys %r) { my ($n, $k) = ($r{$o}, 0); $n = $r{$n} while exists $r{$n} && $k++ < 50; $r{$o} = $n }
                $re = join "|", map quotemeta, sort { length $b <=> length $a } keys %r; }
        s/\b($re)\b/$r{$1}/g' "$f"
done
rm -f "${TMPDIR:-/tmp}/rename_exports.$$"
echo "rename_exports: done ($(grep -c '^file ' "$map") file pairs, $(grep -c '^path ' "$map") files, $(grep -c '^name ' "$map") names)"
