# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run an app's QI test commands (commands / test_cmds) against its built image, before anything is pushed.

One throwaway container from the image, as the image's user, in the app folder as it is in the image. The
commands run in one shell, in order, so inline assignments and `export` lines behave as they did on the QI
VM; the first failure stops the run. linux-desktop apps get a headless X display (Xvfb on :0) first.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import io
import os
import re
import tarfile
import time

from .docker_client import docker_errors, remove_quietly
from ...module_utils.errors import QiError

_MARK = re.compile(r"^@@qi-test (start|end) (\d+)(?: (\d+))?$")
XVFB = "Xvfb :0 -screen 0 1280x1024x24 -nolisten tcp -ac >/tmp/xvfb.log 2>&1 &\nsleep 1\n"


# A service's commands ran on the QI VM while the service ran (the deploy tag started it): start it the same way.
SERVICE = """(cd %(workdir)s && exec %(command)s) >/tmp/qi-service.log 2>&1 &
__qi_up=0
for __i in $(seq 1 60); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', %(port)d), 1).close()" 2>/dev/null && { __qi_up=1; break; }
  sleep 0.5
done
if [ "$__qi_up" != 1 ]; then echo "the service did not open port %(port)d in 30 s; its output:"; tail -n 20 /tmp/qi-service.log; exit 97; fi
"""


def _quote(word):
    return "'" + word.replace("'", "'\"'\"'") + "'"


def build_script(commands, desktop=False, service=None):
    """A POSIX shell script that runs each command and brackets its output with markers.

    service: {command: argv, workdir, port} started in the background first, as on the QI VM.
    """
    out = ["set +e", XVFB if desktop else ""]
    if service:
        out.append(SERVICE % {"workdir": _quote(service["workdir"]), "port": service["port"],
                              "command": " ".join(_quote(w) for w in service["command"])})
    for i, cmd in enumerate(commands):
        b64 = base64.b64encode(cmd.encode("utf-8")).decode("ascii")
        out.append("printf '\\n@@qi-test start %d\\n'" % i)
        out.append('eval "$(printf %%s %s | base64 -d)"; __rc=$?' % b64)
        out.append("printf '\\n@@qi-test end %d %%d\\n' \"$__rc\"" % i)
        out.append('[ "$__rc" -eq 0 ] || { %sexit "$__rc"; }' % (
            'echo "--- service output:"; tail -n 20 /tmp/qi-service.log; ' if service else ""))
    return "\n".join(line for line in out if line) + "\n"


def parse_output(commands, text):
    """Per-command results from the marked output: [{command, rc (None: not run), output}]."""
    results = [{"command": c, "rc": None, "output": ""} for c in commands]
    current, buf = None, []
    for line in text.splitlines():
        m = _MARK.match(line)
        if m and m.group(1) == "start":
            current, buf = int(m.group(2)), []
        elif m and m.group(1) == "end" and current is not None:
            results[current]["rc"] = int(m.group(3))
            results[current]["output"] = "\n".join(buf).strip("\n")
            current = None
        elif current is not None:
            buf.append(line)
    if current is not None:  # the shell ended inside a command (exit, a signal)
        results[current]["output"] = "\n".join(buf).strip("\n")
    return results


def _copy_out(container, path, dest_dir):
    try:
        stream = container.get_archive(path)[0]
    except docker_errors():
        return None
    data = io.BytesIO(b"".join(stream))
    os.makedirs(dest_dir, exist_ok=True)
    with tarfile.open(fileobj=data) as tar:
        safe = [m for m in tar.getmembers() if not (m.name.startswith("/") or ".." in m.name.split("/"))]
        tar.extractall(dest_dir, members=safe)
    return os.path.join(dest_dir, os.path.basename(path.rstrip("/")))


def _report_paths(spec):
    out = []
    for pub in spec.get("publishers") or []:
        for conf in pub.values() if isinstance(pub, dict) else []:
            path = conf.get("report-file") if isinstance(conf, dict) else None
            if path:
                out.append(path if path.startswith("/") else os.path.join(spec["source"]["dest"], path))
    return out


def _service(spec):
    run = spec["run"]
    if not (spec.get("service") and run.get("command") and run.get("port")):
        return None
    return {"command": list(run["command"]) + list(run.get("args") or []), "workdir": run["workdir"],
            "port": run["port"]}


def _run_container(client, image, spec, timeout, environment, network, log_dir):
    """Run the test script in a container of image; (exit code or None when it ran too long, its output,
    the reports copied under log_dir)."""
    container = None
    commands = spec["tests"]
    try:
        container = client.containers.run(
            image, ["/bin/sh", "-c", build_script(commands, spec.get("env_runtime") == "linux-desktop",
                                                  _service(spec))],
            detach=True, working_dir=spec["source"]["dest"], environment=environment,
            labels={"io.qi-convergence.test": spec["name"]}, shm_size="256m", network_mode=network or None)
        try:
            rc = container.wait(timeout=timeout).get("StatusCode", 1)
        except Exception:  # the engine's read timeout: the tests ran too long
            container.kill()
            rc = None
        text = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        reports = [p for p in (_copy_out(container, path, os.path.join(log_dir, "reports", spec["name"]))
                               for path in _report_paths(spec)) if p]
        return rc, text, reports
    except docker_errors() as e:
        raise QiError("Docker error while testing %s: %s" % (spec["name"], e))
    finally:
        remove_quietly(container)


def _failure(spec, rc, text, results, outcome, timeout):
    """The QiError for a run that failed, or None."""
    failed = next((r for r in results if r["rc"] not in (0,)), None)
    if rc == 97 and not any(r["rc"] is not None for r in results):
        return QiError("the service %s did not start in its test container:\n%s\nlog %s" % (
            spec["name"], "\n".join(text.strip().splitlines()[-20:]), outcome["log"]))
    if rc is None:
        return QiError("tests of %s did not finish in %d s; log %s" % (spec["name"], timeout, outcome["log"]))
    if failed is None and rc == 0:
        return None
    failed = failed or results[-1]
    tail = "\n".join(failed["output"].splitlines()[-20:])
    err = QiError("test command failed in %s (exit %s): %s\n%s\nnothing was pushed or deployed; log %s"
                  % (spec["name"], failed["rc"] if failed["rc"] is not None else rc, failed["command"], tail,
                     outcome["log"]))
    err.outcome = outcome
    return err


def run_tests(client, image, spec, log_dir, timeout=1800, env=None, network=None):
    """Run spec's tests in a container of image; return results; raise QiError on the first failure."""
    commands = spec["tests"]
    if not commands:
        return {"results": [], "reports": []}
    environment = dict(env or {})
    if spec.get("env_runtime") == "linux-desktop":
        environment.update(DISPLAY=":0", CHROME_BIN="/usr/local/bin/google-chrome")
    log = os.path.join(log_dir, "test-%s.log" % spec["name"])
    started = time.time()
    rc, text, reports = _run_container(client, image, spec, timeout, environment, network, log_dir)
    with open(log, "w") as f:
        f.write(text)
    results = parse_output(commands, text)
    outcome = {"results": results, "reports": reports, "seconds": round(time.time() - started, 1), "log": log}
    error = _failure(spec, rc, text, results, outcome, timeout)
    if error:
        raise error
    return outcome
