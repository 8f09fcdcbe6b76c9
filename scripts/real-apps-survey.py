"""Run the project on real app folders as a user would, and re-make the table of docs/real-apps.md.

    .venv/bin/python scripts/real-apps-survey.py DIR [--write docs/real-apps.md] [--namespace qi-survey]

DIR holds one folder per real app, named OWNER+REPO@COMMIT (copied unchanged from its public repository, e.g.
`git archive COMMIT | tar x -C DIR/OWNER+REPO@COMMIT`). Each is built and deployed with playbooks/site.yml on the
local inventory (its own namespace, node ports chosen by the cluster); what answers is asked over HTTP. A folder may
hold `.survey-probe` (one path, e.g. /defaults/fluid.component) to ask instead of /, and `.survey-vars.json`: what the
app's README asks its user to provide (e.g. a token in secrets_env_vars), passed as extra vars; `.survey-app`, the
subfolder the README says to run from (e.g. examples/production-components-vm); `.survey-roles`, a folder of the
roles its requirements.yml names, installed by hand as its README says (`ansible-galaxy install` cannot reach GitHub
here), put on ANSIBLE_ROLES_PATH. A failure is the machine's when
its reason is a host this machine cannot reach (GitHub, a git-hosted npm dependency); the user's choice when the
existing config is ambiguous and the error lists the candidates; the app's dependencies when its unpinned version
ranges resolve today to releases its Node.js cannot run; else the project's.
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- survey:begin -->", "<!-- survey:end -->"
MACHINE = re.compile(r"github\.com|git host is not reachable|registry this machine reaches serves no|ENOTFOUND|EAI_AGAIN|getaddrinfo|ECONNREFUSED [\d.]+:443"
                     r"|unable to access 'https://")
# The existing config is ambiguous and says so (several candidate ports): a one-line .qi.yml decides.
USER_CHOICE = re.compile(r"names several: ")
# The app's unpinned dependencies resolve today to releases its Node.js cannot run (the rollout says so).
APP_DEPENDENCIES = re.compile(r"newer than the app's Node\.js")
ANSWERS = re.compile(r"(\w[\w.-]*) revision \d+ answers at (http://[^\s\"]+)")


def run_site(app, namespace, extra=None, roles=None):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=os.path.join(ROOT, ".venv", "bin") + ":" + os.environ["PATH"])
    if roles:
        env["ANSIBLE_ROLES_PATH"] = roles
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "inventories/local/hosts.yml",
           "playbooks/site.yml", "-e", "app_dir=%s" % app, "-e", "app_deploy_namespace=%s" % namespace,
           "-e", '{"app_deploy_node_ports": {}}'] + (["-e", "@" + extra] if extra else [])
    start = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          check=False, timeout=3600)
    return proc, time.time() - start


def ask(url, path):
    m = re.match(r"http://([^:/]+):(\d+)", url)
    try:
        c = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        body, kind = r.read(), r.getheader("Content-Type") or ""
        shown = " ".join(body[:200].decode("utf-8", "replace").split())[:80] if "text" in kind or "json" in kind \
            else "%d bytes of %s" % (len(body), kind or "unknown type")
        return "HTTP %d on %s: %s" % (r.status, path, shown)
    except OSError as e:
        return "no answer on %s: %s" % (path, e)


def reason(output):
    """The failure's own message (the failed task's msg), shortened to its first lines."""
    fatal = [l for l in output.splitlines() if l.startswith("fatal: [")]
    msgs = re.findall(r'"msg": "((?:[^"\\]|\\.)*)"', fatal[-1] if fatal else output)
    text = (json.loads('"%s"' % msgs[-1]) if msgs else output.strip().splitlines()[-1] if output.strip() else "")
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    hint = [l for l in lines[3:] if "newer than the app's Node.js" in l]
    return " / ".join([l[:200] for l in lines[:3]] + hint)


def _said(folder, name):
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip()


def survey(folder, namespace):
    name = os.path.basename(folder.rstrip("/"))
    repo, commit = (name.split("@", 1) + [""])[:2]
    probe = _said(folder, ".survey-probe") or "/"
    app = os.path.join(folder, _said(folder, ".survey-app") or "")
    roles = os.path.join(folder, ".survey-roles")
    extra = os.path.join(folder, ".survey-vars.json")
    proc, seconds = run_site(app, namespace, extra if os.path.isfile(extra) else None,
                             roles if os.path.isdir(roles) else None)
    out = proc.stdout + proc.stderr
    shown = repo.replace("+", "/") + (" " + os.path.relpath(app, folder) if app.rstrip("/") != folder.rstrip("/") else "")
    row = {"repo": shown, "commit": commit, "seconds": round(seconds), "day": time.strftime("%Y-%m-%d")}
    if proc.returncode == 0:
        answers = ANSWERS.findall(out)
        row["outcome"] = "built, deployed, answers" if answers else "built (a library: not deployed)"
        row["detail"] = "; ".join("%s %s" % (app, ask(url, probe)) for app, url in answers)
        row["fault"] = ""
    else:
        why = reason(out)
        built = why.startswith("rollout of") or "making the image reproducible" in out
        row["outcome"] = "built, deploy failed" if built else "build failed"
        row["detail"] = why
        row["fault"] = ("machine" if MACHINE.search(why) else "user's choice" if USER_CHOICE.search(why)
                        else "the app's dependencies today" if APP_DEPENDENCIES.search(why) else "project")
    return row


HEADER = ["| repository @ commit | outcome | what happened | whose fault | seconds | run on |", "|---|---|---|---|---|---|"]


def row_lines(rows):
    return ["| %s @ %s | %s | %s | %s | %d | %s |" % (
        r["repo"], r["commit"], r["outcome"], r["detail"].replace("|", "\\|"), r["fault"] or "-", r["seconds"],
        r["day"]) for r in rows]


def _app_cell(line):
    return line.split(" | ", 1)[0]


def write(doc, lines):
    """The doc's table with these rows, keeping the rows of apps not run this time."""
    with open(doc) as f:
        content = f.read()
    head, rest = content.split(BEGIN, 1)
    old, tail = rest.split(END, 1)
    new = set(_app_cell(l) for l in lines)
    kept = [l for l in old.strip().splitlines()[2:] if _app_cell(l) not in new]
    rows = sorted(kept + lines, key=lambda l: _app_cell(l).lower())
    with open(doc, "w") as f:
        f.write(head + BEGIN + "\n" + "\n".join(HEADER + rows) + "\n" + END + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--write", metavar="DOC")
    ap.add_argument("--namespace", default="qi-survey")
    args = ap.parse_args()
    folders = sorted(os.path.join(args.dir, d) for d in os.listdir(args.dir)
                     if os.path.isdir(os.path.join(args.dir, d)) and "@" in d)
    rows = []
    for folder in folders:
        print("== %s" % os.path.basename(folder), file=sys.stderr, flush=True)
        rows.append(survey(folder, args.namespace))
        print(json.dumps(rows[-1]), flush=True)
    lines = row_lines(rows)
    print("\n".join(HEADER + lines))
    if args.write:
        write(args.write, lines)
    return 1 if any(r["fault"] == "project" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
