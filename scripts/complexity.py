# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail on a function in plugins/ with cyclomatic complexity over 15 (radon's measure: branches, loops, boolean
operators and comprehensions count) or over 60 lines; print the ten most complex either way.

Usage: python scripts/complexity.py [--max-complexity N] [--max-lines N] [PATH ...]
"""

import argparse
import os
import sys

from radon.visitors import ComplexityVisitor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def functions(paths):
    """(file, name, first line, complexity, lines) of every function and method under paths."""
    for base in paths:
        for top, _dirs, files in os.walk(base):
            for f in sorted(files):
                if not f.endswith(".py"):
                    continue
                path = os.path.join(top, f)
                with open(path) as fh:
                    visitor = ComplexityVisitor.from_code(fh.read())
                todo = list(visitor.functions) + [m for c in visitor.classes for m in c.methods]
                while todo:
                    fn = todo.pop(0)
                    todo.extend(fn.closures)
                    yield (os.path.relpath(path, ROOT), fn.fullname, fn.lineno, fn.complexity,
                           fn.endline - fn.lineno + 1)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-complexity", type=int, default=15)
    ap.add_argument("--max-lines", type=int, default=60)
    ap.add_argument("paths", nargs="*", default=[os.path.join(ROOT, "plugins")])
    args = ap.parse_args(argv)
    found = list(functions(args.paths))
    print("most complex functions (complexity, lines):")
    for path, name, line, cc, lines in sorted(found, key=lambda f: -f[3])[:10]:
        print("  %3d %4d  %s:%d %s" % (cc, lines, path, line, name))
    bad = [f for f in found if f[3] > args.max_complexity or f[4] > args.max_lines]
    for path, name, line, cc, lines in bad:
        print("FAIL %s:%d %s: complexity %d (max %d), %d lines (max %d)" % (
            path, line, name, cc, args.max_complexity, lines, args.max_lines), file=sys.stderr)
    print("%d functions, %d over the limits" % (len(found), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
