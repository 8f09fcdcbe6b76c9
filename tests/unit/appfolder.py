"""Build app folders for tests from plain dicts (written as YAML) or raw text."""
import os

import yaml

from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps

LEGACY_PLAYBOOK = [{"name": "Provision", "hosts": "localhost", "user": "root", "vars_files": ["vars.yml"],
                    "roles": ["qi.convergence.nodejs_app"]}]
BASE_VARS = {"nodejs_app_name": "hello", "nodejs_app_start_script": "server.js", "nodejs_app_tcp_port": 8080}


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode) as f:
        f.write(content if isinstance(content, (str, bytes)) else yaml.safe_dump(content, sort_keys=False))


def make_app(root, vars_yml=None, qi=None, playbook=tuple(LEGACY_PLAYBOOK), requirements=None):
    """An app folder; vars_yml/qi/playbook may be dicts (dumped) or raw text/bytes; None leaves them out."""
    os.makedirs(root, exist_ok=True)
    if vars_yml is not None:
        write(os.path.join(root, "provisioning", "vars.yml"), vars_yml)
        if playbook is not None:
            write(os.path.join(root, "provisioning", "playbook.yml"),
                  list(playbook) if isinstance(playbook, tuple) else playbook)
    if requirements is not None:
        write(os.path.join(root, "provisioning", "requirements.yml"), requirements)
    if qi is not None:
        write(os.path.join(root, ".qi.yml"), qi)
    return str(root)


def read_app(app_dir, **kwargs):
    """The first (usually only) app of app_dir."""
    return read_apps(app_dir, **kwargs)[0]
