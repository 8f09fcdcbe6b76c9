# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read how an app was built before: the legacy Dockerfile and Vagrantfile beside its provisioning.

The Dockerfile is read with dockerfile-parse: ENV/ARG values (they fed the playbook's lookup('env', ...)), the
destination of the COPY of the whole app (its install dir), a node image's tag in FROM (its Node.js) and the
``RUN ansible-playbook PLAYBOOK --tags ... -e ...`` line. The Vagrantfile is Ruby: the ``ansible-playbook`` command
lines of its shell provisioners with the variables set before them, or an ansible provisioner's ``playbook``,
``tags`` and ``extra_vars``. Each value keeps where it came from, so the build can say it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import shlex

from ...module_utils.errors import QiError
from .legacy_roles import lookup_environment

DOCKERFILES = ("Dockerfile", "provisioning/Dockerfile")
VAGRANTFILES = ("Vagrantfile",)
# Images whose tag is a Node.js version (the GPII images were inclusivedesign/nodejs:VERSION).
_NODE_IMAGE = re.compile(r"^(?:[\w.-]+(?::\d+)?/)*(?:node|nodejs)(?::(?P<tag>[\w.-]+))?(?:@\S+)?$")
_NODE_TAG = re.compile(r"^(?P<v>\d+(?:\.\d+){0,2}|lts|current)(?:$|-)")
_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_ASSIGN = re.compile(r"^(\w+)=(.*)$", re.S)
# Ruby interpolation and the shell line-continuations a heredoc may carry.
_RUBY_INTERP = re.compile(r"#\{[^}]*\}")
_RUBY_ENV = re.compile(r"""ENV\[\s*["'](\w+)["']\s*\]\s*=\s*["']([^"']*)["']""")
_PROVISIONER = re.compile(r"""\.vm\.provision\s+[:"'](ansible(?:_local)?)["']?.*?\bdo\s*\|\s*(\w+)\s*\|(.*?)\n\s*end\b""",
                          re.S)


def _expand(text, env):
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _extra_vars_arg(value, base_dir):
    """One -e value: key=value pairs, a JSON/YAML mapping or @file (read later by the caller's loader)."""
    value = value.strip()
    if value.startswith("@"):
        return {"@file": os.path.join(base_dir, value[1:])}
    if value.startswith("{"):
        try:
            data = json.loads(value)
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {"@yaml": value}
    out = {}
    for token in shlex.split(value):
        m = _ASSIGN.match(token)
        if m:
            out[m.group(1)] = m.group(2)
    return out


_SEPARATORS = ("&&", ";", "||", "|")
_VALUED = ("--tags", "-t", "--extra-vars", "-e", "--inventory", "-i", "--limit", "-l", "--skip-tags", "--user", "-u",
           "--connection", "-c", "--vault-password-file", "--become-user")


def _words(line):
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split()


def _leading_env(words):
    """(the VAR=value words before ansible-playbook, its index or None)."""
    env = {}
    for i, w in enumerate(words):
        if os.path.basename(w) == "ansible-playbook":
            return env, i
        m = _ASSIGN.match(w)
        if m:
            env[m.group(1)] = m.group(2)
    return env, None


def _options(args):
    """(option, its value or None when it takes none, the word itself) for each word of an ansible-playbook call,
    up to a shell separator."""
    i = 0
    while i < len(args) and args[i] not in _SEPARATORS:
        word = args[i]
        opt, eq, val = word.partition("=")
        if opt not in _VALUED:
            val = None
        elif not eq:
            val = args[i + 1] if i + 1 < len(args) else ""
            i += 1
        yield opt, val, word
        i += 1


def parse_ansible_command(line, base_dir=""):
    """The ansible-playbook call of a shell line (pure): {playbook, tags, extra_vars, env} or None.

    ``VAR=value`` words before the command (also after sudo) and ``export VAR=value`` earlier on the line are its
    environment; ``--tags``/``-t`` the tags; ``-e``/``--extra-vars`` the extra variables.
    """
    words = _words(line)
    env, start = _leading_env(words)
    if start is None:
        return None
    out = {"playbook": None, "tags": None, "extra_vars": {}, "env": env}
    for opt, val, word in _options(words[start + 1:]):
        if opt in ("--tags", "-t"):
            out["tags"] = [t.strip() for t in val.split(",") if t.strip()]
        elif opt in ("--extra-vars", "-e"):
            out["extra_vars"].update(_extra_vars_arg(val, base_dir))
        elif val is None and not word.startswith("-") and out["playbook"] is None and word.endswith((".yml", ".yaml")):
            out["playbook"] = word
    return out


def _node_version(image):
    m = _NODE_IMAGE.match(image or "")
    tag = (m.group("tag") or "") if m else ""
    v = _NODE_TAG.match(tag)
    return v.group("v") if v else None


def _dockerfile_structure(path):
    try:
        from dockerfile_parse import DockerfileParser
    except ImportError:
        raise QiError("reading the legacy Dockerfile needs the Python package dockerfile-parse (make setup "
                      "installs it; pip install dockerfile-parse)", path=path)
    try:
        with open(path, "rb") as f:
            parser = DockerfileParser(fileobj=f)
            return parser.structure, parser.context_structure
    except (IOError, OSError, ValueError) as e:
        raise QiError("cannot be read as a Dockerfile: %s" % e, path=path)


def _from(out, value, env):
    out["node_version"] = _node_version(value.split()[0] if value.split() else "")


def _env_or_arg(out, value, env):
    out["env"].update(lookup_environment(dict((k, v) for k, v in env.items() if v is not None)))


def _expose(out, value, env):
    out["ports"] += [int(p.split("/")[0]) for p in _expand(value, env).split() if p.split("/")[0].isdigit()]


def _workdir(out, value, env):
    out["workdir"] = os.path.join(out["workdir"], _expand(value, env))


def _copy(out, value, env):
    parts = [p for p in _expand(value, env).split() if not p.startswith("--")]
    if len(parts) >= 2 and parts[0] in (".", "./") and out["install_dir"] is None:
        out["install_dir"] = os.path.normpath(os.path.join(out["workdir"], parts[-1]))


def _run(out, value, env):
    call = parse_ansible_command(_expand(value, env))
    if call and out["command"] is None:
        out.update(ansible=True, command=value.strip(), playbook=call["playbook"], tags=call["tags"],
                   extra_vars=call["extra_vars"])
        out["env"].update(lookup_environment(call["env"]))


_INSTRUCTIONS = {"FROM": _from, "ENV": _env_or_arg, "ARG": _env_or_arg, "EXPOSE": _expose, "WORKDIR": _workdir,
                 "COPY": _copy, "ADD": _copy, "RUN": _run}


def read_dockerfile(path):
    """What a legacy Dockerfile says about the build (see the module doc); raises QiError if unreadable."""
    structure, contexts = _dockerfile_structure(path)
    out = {"env": {}, "playbook": None, "tags": None, "extra_vars": {}, "install_dir": None, "node_version": None,
           "command": None, "ansible": False, "ports": [], "workdir": "/"}
    for item, ctx in zip(structure, contexts):
        handler = _INSTRUCTIONS.get(item["instruction"])
        if handler:
            handler(out, item["value"], dict(getattr(ctx, "args", {}) or {}, **(getattr(ctx, "envs", {}) or {})))
    del out["workdir"]
    return out


def _ruby_list(text):
    text = text.strip()
    if text.startswith("["):
        return re.findall(r"""["']([^"']+)["']""", text)
    m = re.match(r"""["']([^"']*)["']""", text)
    return [t.strip() for t in m.group(1).split(",") if t.strip()] if m else []


def _ruby_hash(text):
    return dict((k, v) for k, v in re.findall(r"""["':]?(\w+)["']?\s*(?:=>|:)\s*["']([^"']*)["']""", text))


_MEMORY = re.compile(r"""(?:["']--memory["']\s*,\s*|\.memory\s*=\s*)["']?(\w+)""")


def vm_memory_mb(text):
    """The VM's memory in MB (pure): `--memory", 2048`, `vb.memory = 2048`, or a variable set as
    `ram = ENV["VM_RAM"] || 2048` (the default the project chose); None when the Vagrantfile does not say."""
    m = _MEMORY.search(text)
    if not m:
        return None
    value = m.group(1)
    if not value.isdigit():
        var = re.search(r"^\s*%s\s*=\s*(?:ENV\[[^\]]*\]\s*\|\|\s*)?[\"']?(\d+)" % re.escape(value), text, re.M)
        value = var.group(1) if var else ""
    return int(value) if value.isdigit() else None


_FORWARDED = re.compile(r"""^[^#\n]*forwarded_port["']?\s*,\s*guest:\s*(\w+)""", re.M)
# Ports a legacy VM forwarded that are not the app's: ssh and systemd-journal-gatewayd.
_NOT_THE_APP = (22, 19531)


def forwarded_ports(text):
    """The guest ports a Vagrantfile forwards (pure): literals, or variables set as `x = ... || 8080`."""
    out = []
    for name in _FORWARDED.findall(text):
        if not name.isdigit():
            var = re.search(r"^\s*%s\s*=.*?(\d+)\s*$" % re.escape(name), text, re.M)
            name = var.group(1) if var else ""
        if name.isdigit() and int(name) not in _NOT_THE_APP and int(name) not in out:
            out.append(int(name))
    return out


_SYNCED = re.compile(r"""^[^#\n]*\.synced_folder\s*\(?\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']([^\n]*)""", re.M)


def synced_folders(text):
    """[(host folder, guest folder)] a Vagrantfile syncs (pure); `"#{var}"` is read from `var = "..."`."""
    def ruby(value):
        def var(m):
            found = re.search(r"^\s*%s\s*=\s*[\"']([^\"']*)[\"']" % re.escape(m.group(1)), text, re.M)
            return found.group(1) if found else m.group(0)
        return re.sub(r"#\{\s*(\w+)\s*\}", var, value)
    return [(ruby(host), ruby(guest)) for host, guest, rest in _SYNCED.findall(text)
            if not re.search(r"disabled\s*(?::|=>)\s*true", rest)]


def read_vagrantfile(path):
    """The ansible-playbook call of a legacy Vagrantfile (see the module doc) and the VM's memory, or None."""
    try:
        with open(path, "r", errors="replace") as f:
            text = f.read()
    except (IOError, OSError) as e:
        raise QiError("cannot be read: %s" % e, path=path)
    env = dict(_RUBY_ENV.findall(text))
    for line in text.splitlines():
        if "ansible-playbook" not in line or line.lstrip().startswith("#"):
            continue
        call = parse_ansible_command(_RUBY_INTERP.sub("", line))
        if call and call["playbook"]:
            call["env"] = lookup_environment(dict(env, **call["env"]))
            call["command"] = line.strip()
            call["memory_mb"] = vm_memory_mb(text)
            call["ports"] = forwarded_ports(text)
            return call
    m = _PROVISIONER.search(text)
    if not m:
        return None
    var, body = m.group(2), m.group(3)
    settings = dict(re.findall(r"\b%s\.(\w+)\s*=\s*(.+)" % re.escape(var), body))
    playbook = _ruby_list(settings.get("playbook", ""))
    return {"playbook": playbook[0] if playbook else None,
            "tags": _ruby_list(settings["tags"]) if "tags" in settings else None,
            "extra_vars": _ruby_hash(settings.get("extra_vars", "")), "env": lookup_environment(env),
            "command": "%s provisioner" % m.group(1), "memory_mb": vm_memory_mb(text),
            "ports": forwarded_ports(text)}


def read_build_files(src_dir):
    """{'dockerfile': (relative path, facts) or None, 'vagrantfile': (relative path, facts) or None}."""
    out = {"dockerfile": None, "vagrantfile": None}
    for key, names, reader in (("dockerfile", DOCKERFILES, read_dockerfile),
                               ("vagrantfile", VAGRANTFILES, read_vagrantfile)):
        for name in names:
            path = os.path.join(src_dir, name)
            if os.path.isfile(path):
                facts = reader(path)
                if facts:
                    out[key] = (name, facts)
                break
    return out


def find_playbook(src_dir, named):
    """The provisioning playbook a legacy build named (relative to its own working dir): found by its path in
    the app folder, else by its name in provisioning/ (where the Dockerfile copied it from). None if absent."""
    if not named:
        return None
    candidates = [os.path.join(src_dir, named.lstrip("/")), os.path.join(src_dir, "provisioning",
                                                                         os.path.basename(named))]
    return next((os.path.normpath(p) for p in candidates if os.path.isfile(p)), None)


VM_ONLY_TAGS = ("deploy", "test")


def _from_files(files):
    """Dockerfile values over Vagrantfile ones: {key: (value, source)}; env and extra vars merged."""
    out = {}
    for key in ("vagrantfile", "dockerfile"):
        if not files.get(key):
            continue
        name, facts = files[key]
        for field in ("playbook", "tags", "install_dir", "node_version", "memory_mb", "ports"):
            if facts.get(field):
                out[field] = (facts[field], name)
        for field in ("env", "extra_vars"):
            if facts.get(field):
                before = out.get(field, ({}, ""))
                out[field] = (dict(before[0], **facts[field]), " and ".join(filter(None, (name, before[1]))))
    return out


def _context_playbook(ctx, src_dir, files, found):
    named, source = found["playbook"]
    path = find_playbook(src_dir, named)
    if path:
        ctx["playbook"] = os.path.relpath(path, src_dir)
        ctx["notes"].append("playbook %s: from %s (%s)" % (ctx["playbook"], source, _command(files, source)))
    else:
        ctx["notes"].append("%s names the playbook %s, which is not in the app folder: ignored" % (source, named))


def _context_phases(ctx, found):
    tags, source = found["tags"]
    phases = [t for t in tags if t not in VM_ONLY_TAGS] or None
    dropped = [t for t in tags if t in VM_ONLY_TAGS]
    ctx["phases"] = phases
    ctx["notes"].append("phases %s: from %s's --tags %s%s" % (
        ",".join(phases or []), source, ",".join(tags),
        " (%s: the cluster starts and checks the app)" % ",".join(dropped) if dropped else ""))


def _context_env(ctx, found):
    ctx["env"] = lookup_environment(ctx["env"])
    if ctx["env"]:
        ctx["notes"].append("environment for lookup('env', ...) from %s: %s" % (found["env"][1], ", ".join(
            "%s=%s" % (k, v) if not _SECRETISH.search(k) else "%s=(hidden)" % k for k, v in sorted(ctx["env"].items()))))


def legacy_context(src_dir, qi_build):
    """How the legacy build ran, for this build: playbook, phases, environment for lookup('env'), extra vars,
    install dir and Node.js version, with notes saying where each came from. Precedence: .qi.yml > Dockerfile >
    Vagrantfile > defaults."""
    files = read_build_files(src_dir)
    found = _from_files(files)
    ctx = {"playbook": None, "phases": None, "env": {}, "extra_vars": {}, "install_dir": None,
           "node_version": None, "memory_mb": None, "ports": [], "port_source": None, "notes": []}
    if qi_build.get("playbook"):
        ctx["playbook"] = qi_build["playbook"]
    elif "playbook" in found:
        _context_playbook(ctx, src_dir, files, found)
    if not qi_build.get("phases") and "tags" in found:
        _context_phases(ctx, found)
    for field in ("env", "extra_vars", "install_dir", "node_version", "memory_mb"):
        if field in found:
            ctx[field] = found[field][0]
    if "ports" in found:
        ctx["ports"], ctx["port_source"] = found["ports"]
    _context_env(ctx, found)
    return ctx, found


_SECRETISH = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL", re.I)


def _command(files, source):
    for key in ("dockerfile", "vagrantfile"):
        if files.get(key) and files[key][0] == source:
            return files[key][1].get("command") or ""
    return ""


class patched_environment:
    """os.environ with the legacy build's variables for the duration (lookup('env') reads os.environ); names
    the app's own files define win over the controller's, so the image does not depend on who builds it."""

    def __init__(self, env):
        self.env, self.saved = lookup_environment(env), {}

    def __enter__(self):
        for k, v in self.env.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = str(v)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return False
