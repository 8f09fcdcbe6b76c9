# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the import graph between the collection's stage packages and fail on an edge that points back up.

The stages, lowest first: module_utils (shipped to managed hosts) -> kube, report -> spec -> image -> release
-> the plugins Ansible loads (action, modules, filter, callback). A package may import its own files and any
lower stage, never one at its own level or above; a module (run on the managed host) may import module_utils
only, and every import inside plugins/ is relative, so this graph is the whole truth.

Usage: python scripts/import-graph.py [--dot] [--root COLLECTION_DIR]
"""

import argparse
import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "ansible_collections.qi.convergence."
RANK = {"module_utils": 0, "kube": 1, "report": 1, "spec": 2, "image": 3, "release": 4,
        "action": 5, "modules": 5, "filter": 5, "callback": 5, "doc_fragments": 5}


def stage_of(module):
    """plugins.plugin_utils.spec.reader -> spec; plugins.module_utils.errors -> module_utils."""
    parts = module.split(".")
    return parts[2] if parts[1] == "plugin_utils" and len(parts) > 2 else parts[1]


def module_name(path, root):
    return os.path.relpath(path, root)[:-3].replace(os.sep, ".")


def imports_of(path, root):
    """(imported module, line, is relative) for each import of the collection in the file at path."""
    name = module_name(path, root)
    package = name.split(".")[:-1]
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            yield ".".join(base + ([node.module] if node.module else [])), node.lineno, True
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PREFIX):
            yield node.module[len(PREFIX):], node.lineno, False
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PREFIX):
                    yield alias.name[len(PREFIX):], node.lineno, False


def python_files(root):
    for top, _dirs, files in os.walk(os.path.join(root, "plugins")):
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.join(top, f)


def check(root):
    edges, problems, deps = {}, [], {}
    for path in python_files(root):
        src = module_name(path, root)
        deps[src] = set()
        for target, line, relative in imports_of(path, root):
            where = "%s:%d" % (os.path.relpath(path, root), line)
            deps[src].add(target)
            if not relative:
                problems.append("%s: absolute import of %s (imports inside the collection are relative)"
                                % (where, target))
            a, b = stage_of(src), stage_of(target)
            if a == b:
                continue
            edges[(a, b)] = edges.get((a, b), 0) + 1
            if a == "modules" and b != "module_utils":
                problems.append("%s: a module imports %s: only module_utils ships to the managed host" % (where, target))
            elif RANK.get(b, 99) >= RANK.get(a, 99):
                problems.append("%s: %s imports %s, which is not a lower stage (%s -> %s points back up)"
                                % (where, a, target, a, b))
    return edges, problems, deps


def shipped(module, deps):
    """The collection files a module carries to the managed host (itself and what it imports, transitively)."""
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m in seen or m not in deps:
            continue
        seen.add(m)
        todo.extend(deps[m])
    return sorted(seen)


def _lines(path):
    with open(path) as f:
        return len(f.readlines())


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dot", action="store_true", help="print the graph in Graphviz's dot language")
    ap.add_argument("--root", default=ROOT, help="the collection's folder (default: this repository)")
    args = ap.parse_args(argv)
    edges, problems, deps = check(args.root)
    order = sorted(set(a for a, b in edges) | set(b for a, b in edges), key=lambda s: (RANK.get(s, 99), s))
    if args.dot:
        print("digraph stages {")
        for (a, b), n in sorted(edges.items()):
            print('  "%s" -> "%s" [label=%d];' % (a, b, n))
        print("}")
    else:
        print("stage imports (importer -> imported: number of import lines)")
        for a in order:
            outs = ["%s (%d)" % (b, n) for (x, b), n in sorted(edges.items(), key=lambda e: RANK.get(e[0][1], 99)) if x == a]
            if outs:
                print("  %-13s -> %s" % (a, ", ".join(outs)))
        print("what each module ships to the managed host")
        for m in sorted(d for d in deps if d.startswith("plugins.modules.")):
            files = shipped(m, deps)
            lines = sum(_lines(os.path.join(args.root, f.replace(".", os.sep) + ".py")) for f in files)
            print("  %-14s %d files, %d lines" % (m.rsplit(".", 1)[1], len(files), lines))
    for p in problems:
        print("FAIL " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
