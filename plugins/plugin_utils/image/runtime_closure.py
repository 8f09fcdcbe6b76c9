# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an app needs at run time, out of its provisioned build container: the runtime-only image's one layer.

Runs with the container's own python3 (every base image has it: Ansible needs it), as root, after the full
image was committed: `python3 runtime_closure.py SETTINGS.json`. It keeps
- the app folders (the source and the working dir) and the run user's home, whole, and the paths the app names;
- the packages the provisioning installed, except build tools (compilers, headers, -dev packages, git), and the
  package of the command, each with the packages it depends on, without their docs, man pages and translations;
- the files the provisioning wrote outside any package (e.g. a Node.js runtime from its tarball, a config file),
  except headers, npm itself (unless the command is npm) and caches;
- a shell and the basic file tools (child processes and `kubectl exec` find them), users and groups, the CA
  bundle, the dynamic linker's cache, /tmp;
- for every program and library kept, the shared libraries it loads (ldd), with the symlinks that reach them.
Then it writes them as one tar, in name order, with every time clamped to the epoch, and prints a JSON summary.
The functions above main() are pure, for the unit tests on the controller.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile

# Packages only the build needs; the closure never takes them in, whoever depends on them.
BUILD_ONLY = re.compile(
    r"^(build-essential|make|patch|binutils(-.*)?|gcc(-\d+)?|g\+\+(-\d+)?|cpp(-\d+)?|.*-dev|libc-dev-bin|dpkg-dev"
    r"|git|git-man|pkgconf(-bin)?|pkg-config|manpages(-dev)?|python3-pip|python3-setuptools|python3-wheel|node-gyp"
    r"|python3-apt|python-apt-common|aptitude\S*|apt-utils|software-properties-common"
    r"|libtool|autoconf|automake|cmake(-data)?|rpcsvc-proto|lib(asan|lsan|tsan|ubsan|itm|quadmath|cc1-|isl|mpc|mpfr"
    r"|gprofng|ctf|binutils|jansson|hwasan)\S*|sudo|openssh-\S+|"
    # What package scripts need when installing, not the app when running.
    r"debconf|cdebconf|debconf-2.0|adduser|lsb-base|sysvinit-utils|init-system-helpers|dpkg|install-info|ucf"
    r"|login|passwd|libpam-\S+|logrotate|systemd(-\S+)?|perl-base|usr-is-merged|usrmerge)$")
# Paths no run needs, in packages or written by the provisioning.
DROPPED = re.compile(
    r"^/usr/(local/)?share/(locale|lintian|bug|menu|gtk-doc)(/|$)|/share/(doc|man|info)(/|$)|^/usr/(local/)?include/"
    r"|/include/node/|/(npm|corepack|yarn|yarn-classic)(-\d[^/]*)?(/|$)|^/usr/lib/gcc/|\.a$"
    r"|^/var/(cache|log|lib/apt|lib/dpkg)/|^/root/")
# Never walked for files the provisioning wrote.
NOT_WALKED = ("/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/var/cache", "/var/log", "/var/lib/apt",
              "/var/lib/dpkg", "/root", "/boot", "/mnt", "/media", "/srv/qi-runtime")
ALWAYS = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/nsswitch.conf", "/etc/host.conf",
          "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/openssl.cnf", "/etc/ld.so.cache", "/etc/ld.so.conf",
          "/etc/ld.so.conf.d", "/etc/localtime", "/etc/os-release", "/tmp", "/var/tmp", "/bin", "/sbin", "/lib",
          "/lib64", "/usr/lib64", "/usr/bin/env")
WHOLE_ALWAYS = ("/etc/ld.so.conf.d",)
BASIC_TOOLS = ("sh", "cat", "env", "id", "ls", "printenv", "touch", "sleep", "mkdir", "rm", "cp", "mv", "ln",
               "chmod", "head", "tail", "date", "uname", "true", "false", "test", "dirname", "basename", "readlink",
               "sort", "wc", "tr", "cut", "tee", "echo", "pwd", "hostname", "find", "grep", "nohup", "sed",
               "xargs", "stat", "mktemp", "seq", "uniq", "whoami", "nproc", "timeout", "expr", "du", "df")
NPM_COMMANDS = ("npm", "npx", "yarn", "corepack")
# The C and C++ runtimes: their libraries come in through ldd alone; nothing loads their other files (glibc's
# character set converters, 7 MB) unless a program asks for them by name.
LIBRARIES_ALONE = ("libc6", "libstdc++6", "libgcc-s1", "gcc-12-base", "gcc-13-base", "gcc-14-base")
EXTENDED_STATES = "/var/lib/apt/extended_states"
PSEUDO = ("/proc/", "/sys/", "/dev/", "/run/")
# What the engine mounts into every container: never the image's.
ENGINE_FILES = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/.dockerenv")


def parse_status(text):
    """{package: {"depends": [[alternatives]], "provides": [names]}} of the installed packages in a dpkg status
    file (pure)."""
    out = {}
    for para in re.split(r"\n\s*\n", text):
        fields, last = {}, None
        for line in para.splitlines():
            if line[:1] in (" ", "\t") and last:
                fields[last] += "\n" + line
            elif ":" in line:
                last, value = line.split(":", 1)
                fields[last] = value.strip()
        name = fields.get("Package")
        if not name or not fields.get("Status", "").endswith(" installed"):
            continue
        deps = []
        for key in ("Pre-Depends", "Depends"):
            for group in filter(None, (g.strip() for g in fields.get(key, "").split(","))):
                deps.append([re.split(r"[\s(:]", alt.strip(), 1)[0] for alt in group.split("|")])
        provides = [re.split(r"[\s(]", p.strip(), 1)[0] for p in fields.get("Provides", "").split(",") if p.strip()]
        out[name] = {"depends": deps, "provides": provides}
    return out


def auto_installed(text):
    """The packages apt installed only as dependencies, from its extended_states file (pure)."""
    out = set()
    for para in re.split(r"\n\s*\n", text):
        fields = dict(line.split(":", 1) for line in para.splitlines() if ":" in line)
        if fields.get("Auto-Installed", "").strip() == "1" and fields.get("Package"):
            out.add(fields["Package"].strip())
    return out


def _providers(status):
    providers = {}
    for name, info in sorted(status.items()):
        for virtual in info["provides"]:
            providers.setdefault(virtual, name)
    return providers


def package_closure(status, roots):
    """The installed packages roots need, with what they depend on; build-only packages left out (pure)."""
    providers = _providers(status)
    kept, todo = set(), [r for r in roots if r in status and not BUILD_ONLY.match(r)]
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept.add(name)
        for alternatives in status[name]["depends"]:
            found = [(a if a in status else providers.get(a), a) for a in alternatives]
            found = [(a, asked) for a, asked in found if a]
            if found and not any(BUILD_ONLY.match(a) or BUILD_ONLY.match(asked) for a, asked in found):
                todo.append(found[0][0])
    return kept


def dropped(path, command):
    """Whether a package's or the provisioning's file is left out of the runtime (pure)."""
    found = DROPPED.search(path)
    if found and os.path.basename(command) in NPM_COMMANDS and found.group(0).strip("/").split("-")[0] in NPM_COMMANDS:
        return False
    return bool(found)


def source_of(pyc):
    """The module a bytecode file was compiled from: a/__pycache__/m.cpython-311.pyc is a/m.py (pure)."""
    folder, name = os.path.split(pyc)
    if os.path.basename(folder) == "__pycache__":
        return os.path.join(os.path.dirname(folder), name.split(".", 1)[0] + ".py")
    return pyc[:-1]


def usr_variants(path):
    """The names a file of a merged-/usr system goes by: /bin/x is /usr/bin/x (pure)."""
    for top in ("/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/libx32/"):
        if path.startswith(top):
            return (path, "/usr" + path)
        if path.startswith("/usr" + top):
            return (path, path[4:])
    return (path,)


def ldd_paths(text):
    """The library paths in ldd's output (pure)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if "=>" in line:
            target = line.split("=>", 1)[1].strip().split(" (")[0].strip()
            if target.startswith("/"):
                out.append(target)
        elif line.startswith("/"):
            out.append(line.split(" (")[0].strip())
    return out


def _chain(path, seen=None):
    """path and every symlink on the way to the file it names (a symlinked folder in it, a symlinked file)."""
    seen = set() if seen is None else seen
    out, parts, current = [], path.strip("/").split("/"), ""
    for i, part in enumerate(parts):
        current = current + "/" + part
        if os.path.islink(current) and current not in seen and len(seen) < 64:
            seen.add(current)
            out.append(current)
            target = os.path.join(os.path.dirname(current), os.readlink(current))
            if os.path.normpath(target).startswith(PSEUDO):  # /etc/mtab -> /proc/mounts: the kernel's, not a file
                return out
            rest = "/".join(parts[i + 1:])
            return out + _chain(os.path.normpath(os.path.join(target, rest)) if rest else os.path.normpath(target),
                                seen)
    if os.path.lexists(current or "/"):
        out.append(current or "/")
    return out


def _is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _libraries(path):
    res = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return ldd_paths(res.stdout.decode("utf-8", "replace")) if res.returncode == 0 else []


def _owned_files():
    owned = {}
    info = "/var/lib/dpkg/info"
    for name in sorted(os.listdir(info)) if os.path.isdir(info) else []:
        if name.endswith(".list"):
            package = name[:-5].split(":")[0]
            with open(os.path.join(info, name), "rb") as f:
                for line in f.read().decode("utf-8", "surrogateescape").splitlines():
                    if line and line != "/.":
                        owned.setdefault(line, package)
    return owned


def stamp(st):
    """A file's time and size as find -printf '%T@ %s' gives them, to the second (pure)."""
    return "%d %d" % (int(st.st_mtime), st.st_size)


def changed(path, st, base):
    """Whether the provisioning made or changed this file (the base image had it otherwise, or not at all)."""
    before = base.get(path)
    if before is None:
        return True
    mtime, size = (before.split(" ", 1) + [""])[:2]
    return stamp(st) != "%d %s" % (int(float(mtime)), size)


def _walk_new(base, owned, skipped):
    """Files, links and folders the provisioning made or changed outside any package."""
    out = []
    for top, dirs, files in os.walk("/"):
        dirs[:] = sorted(d for d in dirs if os.path.join(top, d) not in skipped
                         and not os.path.ismount(os.path.join(top, d)))
        for name in sorted(files) + dirs:
            path = os.path.join(top, name)
            if path in ENGINE_FILES or any(v in owned for v in usr_variants(path)):
                continue
            st = os.lstat(path)
            # A folder's time changes with what is put into it: only a new folder counts.
            if (stat.S_ISDIR(st.st_mode) and path not in base) or (not stat.S_ISDIR(st.st_mode) and changed(path, st, base)):
                out.append(path)
    return out


def _which(name, path_env):
    return shutil.which(name, path=path_env) if "/" not in name else name


class Kept(dict):
    """{path: True for a folder kept whole, False for an entry alone}, with the symlinks that reach each path."""

    def add(self, path, whole=False):
        chain = _chain(path)
        for p in chain:
            self[p] = self.get(p, False) or (whole and p == chain[-1])


def collect(settings):
    """The paths to keep (a Kept) and a summary of what was kept."""
    status = parse_status(_read("/var/lib/dpkg/status"))
    owned = _owned_files()
    command = settings["command"] or ""
    keep = Kept()
    roots = _programs(keep, settings, status, owned) | _asked_for(status, parse_status(settings["base_status"]))
    packages = package_closure(status, roots)
    for path, package in sorted(owned.items()):
        if package in packages and package not in LIBRARIES_ALONE and not dropped(path, command) \
                and os.path.lexists(path) and not os.path.isdir(path):
            keep.add(path)
    missing = _named(keep, settings["whole"])
    _provisioned(keep, settings, owned, command)
    _add_libraries(keep, settings["skip"])
    return keep, {"missing": missing, "packages": sorted(packages), "probe": _probe(keep, settings["path"])}


def _asked_for(status, base_status):
    """What the provisioning asked for: not in the base, not pulled in as a dependency (of a compiler, say)."""
    auto = auto_installed(_read(EXTENDED_STATES)) if os.path.exists(EXTENDED_STATES) else set()
    return set(n for n in status if n not in base_status and n not in auto)


def _programs(keep, settings, status, owned):
    """Keep the command (with a script's interpreter) and the basic tools; the packages of the command."""
    roots = set()
    exe = _which(settings["command"], settings["path"]) if settings["command"] else None
    if exe:
        for program in [exe] + _interpreters(exe, settings["path"]):
            roots.update(owned[v] for v in usr_variants(os.path.realpath(program)) + usr_variants(program) if v in owned)
            keep.add(program)
        roots.update(_python_stdlib(status, exe))
    for tool in BASIC_TOOLS:
        found = _which(tool, settings["path"])
        if found:
            keep.add(found)
    return roots


def _named(keep, whole):
    """Keep what every runtime needs and the folders kept whole; the named paths that do not exist."""
    for path in ALWAYS:
        if os.path.lexists(path):
            keep.add(path, whole=path in WHOLE_ALWAYS)
    for path in whole:
        if os.path.lexists(path):
            keep.add(path, whole=True)
    return [p for p in whole if not os.path.lexists(p)]


def _provisioned(keep, settings, owned, command):
    """Keep what the provisioning wrote outside any package; bytecode Python wrote beside a module (Ansible's,
    during the build) only with its source."""
    compiled = []
    skipped = NOT_WALKED + tuple(settings["whole"]) + tuple(settings["skip"])
    for path in _walk_new(settings["base_files"], owned, skipped):
        if path.endswith(".pyc"):
            compiled.append(path)
        elif not dropped(path, command):
            keep.add(path)
    for path in compiled:
        if source_of(path) in keep:
            keep.add(path)


def _interpreters(exe, path_env):
    """A script's interpreter (#!/usr/bin/env node: env and node)."""
    try:
        with open(exe, "rb") as f:
            line = f.readline(200).decode("utf-8", "replace")
    except OSError:
        return []
    if not line.startswith("#!"):
        return []
    words = line[2:].split()
    out = words[:1]
    if words and os.path.basename(words[0]) == "env" and len(words) > 1:
        found = _which(words[1], path_env)
        out += [found] if found else []
    return out


def _python_stdlib(status, exe):
    """A python3.X command's full standard library (its -minimal package leaves most of it out)."""
    real = os.path.basename(os.path.realpath(exe)) if exe else ""
    return [p for p in (real, "lib%s-stdlib" % real) if re.match(r"^(lib)?python3\.\d+", p) and p in status]


def _walk_whole(path, skip):
    """What is under a folder kept whole, depth first in name order, without the skipped paths."""
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return
    for name in names:
        sub = os.path.join(path, name)
        if sub in skip:
            continue
        yield sub
        if os.path.isdir(sub) and not os.path.islink(sub):
            yield from _walk_whole(sub, skip)


def _elf_candidates(keep, skip):
    """Kept files that may load shared libraries: programs, libraries and Node.js addons."""
    for path in sorted(keep):
        if keep[path] and os.path.isdir(path):
            for f in _walk_whole(path, skip):
                if f.endswith(".node") or ".so" in os.path.basename(f):
                    yield f
        else:
            yield path


def _add_libraries(keep, skip):
    done = set()
    for c in _elf_candidates(keep, skip):
        if c in done or os.path.islink(c) or not os.path.isfile(c):
            continue
        done.add(c)
        if (os.stat(c).st_mode & 0o111 or ".so" in c or c.endswith(".node")) and _is_elf(c):
            for lib in _libraries(c):
                keep.add(lib)


def _probe(keep, path_env):
    """What the health check can run in the runtime-only image."""
    for name in ("python3", "node"):
        found = _which(name, path_env)
        if found and os.path.realpath(found) in keep:
            return name
    return None


def _read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "surrogateescape")


def _ancestors(path):
    out, parent = [], os.path.dirname(path)
    while parent not in ("/", ""):
        out.append(parent)
        parent = os.path.dirname(parent)
    return out


def write_tar(keep, out_path, epoch, skip=()):
    """Every kept path (a folder whole where marked, less skip) and each folder above it, in name order, times
    clamped."""
    names = set(keep)
    for path in list(keep):
        names.update(_ancestors(path))
    whole = sorted(p for p, w in keep.items() if w)
    count = 0
    with tarfile.open(out_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(names):
            count += _add(tar, path, epoch)
            if path in whole and not any(path.startswith(w + "/") for w in whole):
                for sub in _walk_whole(path, skip):
                    if sub not in names:
                        count += _add(tar, sub, epoch)
    return count


def _add(tar, path, epoch):
    info = tar.gettarinfo(path, arcname=path.lstrip("/"))
    if info is None:  # a socket or a door: nothing to keep
        return 0
    info.mtime = min(int(info.mtime), epoch)
    if info.isreg():
        with open(path, "rb") as f:
            tar.addfile(info, f)
    else:
        tar.addfile(info)
    return 1


def main(argv):
    with open(argv[1]) as f:
        settings = json.load(f)
    keep, summary = collect(settings)
    summary["entries"] = write_tar(keep, settings["out"], settings["epoch"], settings["skip"])
    summary["bytes"] = os.stat(settings["out"]).st_size
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
