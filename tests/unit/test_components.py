"""A system of components: the order a provisioning script ran its playbooks in, and the graph's errors."""
import json

import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.manifests import SMOKE_TEST, render
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.components import (
    check_graph, from_entries, in_script_order, script_calls, script_paths, waves)

# GPII/universal e893bb3f1 examples/production-components-vm/provisioning/deploy.sh, its shape.
DEPLOY_SH = """#!/bin/bash
set -e
# Retrieve Ansible roles
sudo ansible-galaxy install -fr /home/vagrant/sync/examples/production-components-vm/provisioning/requirements.yml
# Install CouchDB
sudo PYTHONUNBUFFERED=1 ansible-playbook /home/vagrant/sync/examples/x/provisioning/couchdb.yml --tags="install,configure,deploy"
sudo PYTHONUNBUFFERED=1 ansible-playbook /home/vagrant/sync/examples/x/provisioning/preferences-server.yml --tags="install,configure,deploy"
sudo PYTHONUNBUFFERED=1 ansible-playbook /home/vagrant/sync/examples/x/provisioning/flow-manager.yml --tags="install,configure,deploy"
"""


def test_a_deploy_script_gives_the_playbooks_in_order_with_their_tags():
    calls = script_calls(DEPLOY_SH)
    assert [(n, p.rsplit("/", 1)[1], t) for n, p, t in calls] == [
        (6, "couchdb.yml", ["install", "configure", "deploy"]),
        (7, "preferences-server.yml", ["install", "configure", "deploy"]),
        (8, "flow-manager.yml", ["install", "configure", "deploy"])]


def test_the_vagrantfile_names_the_script_else_deploy_sh_is_looked_for(tmp_path):
    (tmp_path / "provisioning").mkdir()
    (tmp_path / "provisioning" / "deploy.sh").write_text(DEPLOY_SH)
    (tmp_path / "setup.sh").write_text("ansible-playbook a.yml\n")
    assert script_paths(str(tmp_path)) == ["provisioning/deploy.sh"]
    vagrantfile = 'config.vm.provision "shell", path: "./setup.sh"\n'
    assert script_paths(str(tmp_path), vagrantfile) == ["setup.sh"]


def test_script_order_makes_each_component_wait_for_the_one_before():
    nodes = in_script_order(["couchdb", "loader", "preferences"],
                            {"couchdb": "stateful", "loader": "job", "preferences": "service"})
    assert [(n["name"], n["depends_on"]) for n in nodes] == [
        ("couchdb", {}), ("loader", {"couchdb": "ready"}), ("preferences", {"loader": "completed"})]
    assert waves(nodes) == [["couchdb"], ["loader"], ["preferences"]]


def test_independent_components_share_a_wave():
    nodes = from_entries([{"app_name": "db", "kind": "stateful", "app_tcp_port": 5984},
                          {"app_name": "loader", "kind": "job", "depends_on": ["db"]},
                          {"app_name": "prefs", "app_tcp_port": 8081, "depends_on": {"db": "ready"}},
                          {"app_name": "flow", "app_tcp_port": 8082,
                           "depends_on": {"prefs": "ready", "loader": "completed"}}])
    assert waves(nodes) == [["db"], ["loader", "prefs"], ["flow"]]


@pytest.mark.parametrize("entries, key, words", [
    ([{"app_name": "a", "depends_on": ["b"]}, {"app_name": "b", "depends_on": ["c"]},
      {"app_name": "c", "depends_on": ["a"]}], "components", "in a cycle: a -> b -> c -> a"),
    ([{"app_name": "a", "depends_on": ["db"]}], "components[0].depends_on",
     "depends on 'db', which is not a component (components: a)"),
    ([{"app_name": "a", "app_tcp_port": 8080}, {"app_name": "b", "app_tcp_port": 8080}], "components[1].port",
     "port 8080 is claimed by both 'a' and 'b'"),
    ([{"app_name": "a"}, {"app_name": "a"}], "components[1]", "two components are named 'a'"),
    ([{"app_name": "a", "kind": "daemon"}], "components[0].kind", "expected one of service, stateful, job, cronjob"),
    ([{"app_name": "a", "kind": "cronjob"}], "components[0].schedule", "a cronjob needs a schedule"),
    ([{"app_name": "a"}, {"app_name": "b", "depends_on": {"a": "started"}}], "components[1].depends_on.a",
     "expected ready or completed, got 'started'"),
])
def test_a_bad_graph_is_refused_naming_the_key(entries, key, words):
    with pytest.raises(QiError) as e:
        from_entries(entries, path=".qi.yml")
    assert e.value.key == key and words in str(e.value)


def test_check_graph_accepts_a_component_without_a_port_beside_others():
    check_graph([{"name": "loader", "port": None, "depends_on": {}}, {"name": "job2", "port": None, "depends_on": {}}])


def _system(root, prefs_port="8081"):
    """A folder shaped like universal's production components VM: three playbooks run in order by deploy.sh, one
    source tree, the services talking over localhost."""
    files = {
        "provisioning/deploy.sh": DEPLOY_SH.replace("examples/x/provisioning/preferences-server.yml",
                                                    "examples/x/provisioning/prefs.yml")
                                           .replace("flow-manager.yml", "flow.yml"),
        "provisioning/couchdb.yml": "- hosts: localhost\n  vars_files: [couchdb-vars.yml]\n  roles: [facts, couchdb]\n",
        "provisioning/couchdb-vars.yml": "couchdb_port: '5984'\ncouchdb_databases: [preferences]\n",
        "provisioning/common-vars.yml": "nodejs_app_start_script: server.js\nnodejs_app_install_dir: /opt/sys\n",
        "provisioning/prefs.yml": "- hosts: localhost\n  vars_files: [common-vars.yml, prefs-vars.yml]\n"
                                  "  roles: [facts, nodejs]\n",
        "provisioning/prefs-vars.yml": "nodejs_app_name: preferences\nnodejs_app_tcp_port: %s\n"
                                       "nodejs_app_env_vars:\n  - COUCHDB_URL=http://localhost:5984/preferences\n"
                                       % prefs_port,
        "provisioning/flow.yml": "- hosts: localhost\n  vars_files: [common-vars.yml, flow-vars.yml]\n"
                                 "  roles: [facts, nodejs]\n",
        "provisioning/flow-vars.yml": "nodejs_app_name: flow-manager\nnodejs_app_tcp_port: 8082\n"
                                      "nodejs_app_env_vars:\n  - PREFERENCES_URL=http://localhost:8081/preferences\n",
        "server.js": "require('http').createServer().listen(process.env.PORT)\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def test_a_deploy_script_system_reads_as_components_in_waves_wired_by_service_name(tmp_path):
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    specs = read_apps(_system(tmp_path))
    assert [(s["name"], s["component"]["kind"], s["component"]["wave"], s["component"]["depends_on"])
            for s in specs] == [("couchdb", "stateful", 0, {}),
                                ("preferences", "service", 1, {"couchdb": "ready"}),
                                ("flow-manager", "service", 2, {"preferences": "ready"})]
    prefs, flow = specs[1], specs[2]
    # On the VM they shared localhost; in the cluster each talks to the other's Service.
    assert prefs["run"]["env"]["COUCHDB_URL"] == "http://couchdb:5984/preferences"
    assert specs[0]["run"]["port"] == 5984  # the couchdb role's couchdb_port
    assert flow["run"]["env"]["PREFERENCES_URL"] == "http://preferences:8081/preferences"
    assert flow["component"]["wired"] == {"PREFERENCES_URL": "http://preferences:8081/preferences"}
    assert flow["run"]["env"]["QI_PREFERENCES_URL"] == "http://preferences:8081"
    assert any("line 8 of provisioning/deploy.sh: provisioning/flow.yml --tags install,configure,deploy "
               "(phases install,configure)" in n for n in flow["notes"])
    assert flow["build"]["phases"] == ["install", "configure"]
    # One source tree, each component's provisioning its own input: the folder stays out of the images.
    assert [s["source"]["exclude"] for s in specs] == [["provisioning"]] * 3


def test_a_system_in_a_subfolder_builds_from_the_folder_its_vagrantfile_syncs(tmp_path):
    """GPII's example VMs live in examples/NAME and sync the repository root ("../..") to the install dir."""
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    example = tmp_path / "examples" / "x"
    _system(example)
    (tmp_path / "package.json").write_text('{"name": "repo-root"}')
    (example / "Vagrantfile").write_text('app_directory = "/opt/sys"\nVagrant.configure(2) do |config|\n'
                                         '  config.vm.synced_folder ".", "/vagrant", disabled: true\n'
                                         '  config.vm.synced_folder "../..", "#{app_directory}"\nend\n')
    specs = read_apps(str(example))
    assert [s["source"]["dir"] for s in specs] == [str(example), str(tmp_path), str(tmp_path)]
    assert specs[1]["source"]["exclude"] == ["examples/x/provisioning"]
    assert "image source: ../.., the folder the Vagrantfile syncs to /opt/sys" in specs[2]["notes"]


def test_two_components_on_one_port_are_refused_before_anything_is_built(tmp_path):
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    with pytest.raises(QiError) as e:
        read_apps(_system(tmp_path, prefs_port="8082"))
    assert "port 8082 is claimed by both 'preferences' and 'flow-manager'" in str(e.value)
    assert e.value.path == "provisioning/deploy.sh"


def test_the_couchdb_role_becomes_the_stand_in_database_with_its_checks(tmp_path):
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    (tmp_path / "package.json").write_text('{"name": "whole-tree"}')
    db = read_apps(_system(tmp_path))[0]
    # Named after its playbook, not the source tree the components share.
    assert db["name"] == "couchdb" and db["service"]
    assert db["run"]["command"] == ["/opt/qi-couchdb/node/bin/node", "/opt/qi-couchdb/bin/qi-couchdb.js"] and db["run"]["user"] == "couchdb"
    assert db["component"]["storage"] == {"path": "/var/lib/couchdb"}
    # Probed on CouchDB's /_up, as the real image would be.
    assert db["health"]["path"] == "/_up" and db["health"]["port"] == 5984
    assert db["deploy"]["generated_secrets"] == []  # couchdb_create_admin_user is not set: admin party
    # The couchdb role's test tag (GET / answers 200 with "Welcome") is the smoke test after the rollout.
    assert db["smoke_test"] == {"path": "/", "port": 5984, "status": 200, "text": "Welcome"}
    assert any("PouchDB Server" in n for n in db["notes"])
    sts, = [o for o in render(db, "registry.local/couchdb@sha256:" + "0" * 64, {}) if o["kind"] == "StatefulSet"]
    assert json.loads(sts["metadata"]["annotations"][SMOKE_TEST])["text"] == "Welcome"
    # Production's ingress host pattern is for the services people call, not the database.
    production = render(db, "registry.local/couchdb@sha256:" + "0" * 64, {"ingress": {"host": "{name}.example.org"}})
    assert "Ingress" not in [o["kind"] for o in production]


def test_a_playbook_that_starts_a_program_on_no_port_is_a_job(tmp_path):
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    root = _system(tmp_path)
    (tmp_path / "provisioning" / "prefs-vars.yml").write_text(
        "nodejs_app_name: loader\nnodejs_app_env_vars:\n  - COUCHDB_URL=http://localhost:5984/preferences\n")
    (tmp_path / "provisioning" / "flow-vars.yml").write_text("nodejs_app_name: flow-manager\nnodejs_app_tcp_port: 8082\n")
    loader = read_apps(root)[1]
    assert loader["component"]["kind"] == "job" and loader["run"]["command"] == ["node", "server.js"]
    assert loader["run"]["env"]["COUCHDB_URL"] == "http://couchdb:5984/preferences"


def test_an_admin_account_is_a_secret_generated_once_and_wired_into_the_urls_of_its_readers(tmp_path):
    from ansible_collections.qi.convergence.plugins.module_utils.generated_secrets import make_values
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    root = _system(tmp_path)
    (tmp_path / "provisioning" / "couchdb-vars.yml").write_text(
        "couchdb_port: '5984'\ncouchdb_create_admin_user: true\ncouchdb_admin_username: gpii\n"
        "couchdb_admin_password: from-the-vars-file\n")
    db, prefs, flow = read_apps(root)
    owned, = db["deploy"]["generated_secrets"]
    assert owned["name"] == "couchdb-admin" and owned["values"] == {"username": "gpii"}
    assert any("couchdb_admin_password of the vars files is not used" in n for n in db["notes"])
    assert "from-the-vars-file" not in json.dumps([db, prefs, flow])
    # The reader's image keeps the plain URL; its pod gets the credentials by reference, expanded by Kubernetes.
    assert prefs["run"]["env"]["COUCHDB_URL"] == "http://couchdb:5984/preferences"
    assert prefs["deploy"]["pod_env"] == {
        "COUCHDB_URL": "http://$(QI_COUCHDB_USER):$(QI_COUCHDB_PASSWORD)@couchdb:5984/preferences"}
    assert flow["deploy"]["generated_secrets"] == [] and flow["deploy"]["pod_env"] == {}
    values = make_values(owned)
    assert values["username"] == "gpii" and len(values["password"]) == 40
    assert values["password"] != make_values(owned)["password"]
    assert make_values(owned, values) == values  # an existing Secret is kept as it is
    image = "registry.local/x@sha256:" + "0" * 64
    objs = render(db, image, {"generated": {"couchdb-admin": values}})
    secret, = [o for o in objs if o["kind"] == "Secret"]
    assert sorted(secret["data"]) == ["password", "username"]
    env = [o for o in objs if o["kind"] == "StatefulSet"][0]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env[:2]] == ["COUCHDB_PASSWORD", "COUCHDB_USER"]
    assert env[0]["valueFrom"] == {"secretKeyRef": {"name": "couchdb-admin", "key": "password"}}
    assert values["password"] not in json.dumps([o for o in objs if o["kind"] != "Secret"])
    reader = [o for o in render(prefs, image, {}) if o["kind"] == "Deployment"][0]
    env = reader["spec"]["template"]["spec"]["containers"][0]["env"]
    # The references come before the URL that names them, or Kubernetes would not expand them.
    assert [e["name"] for e in env[:3]] == ["QI_COUCHDB_PASSWORD", "QI_COUCHDB_USER", "COUCHDB_URL"]
    assert "Secret" not in [o["kind"] for o in render(prefs, image, {})]
    # The inventory's environment still wins.
    overridden = render(prefs, image, {"env": {"COUCHDB_URL": "http://elsewhere:5984"}})
    env = [o for o in overridden if o["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["value"] for e in env if e["name"] == "COUCHDB_URL"] == ["http://elsewhere:5984"]
    with pytest.raises(QiError, match="Secret couchdb-admin is generated when it is first deployed"):
        render(db, image, {})


def test_the_release_makes_the_admin_secret_on_the_first_deploy_and_reads_it_back_after(tmp_path):
    from fake_kube import FakeKube
    from ansible_collections.qi.convergence.plugins.plugin_utils.release.generated import generated_values
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    root = _system(tmp_path)
    (tmp_path / "provisioning" / "couchdb-vars.yml").write_text("couchdb_port: '5984'\ncouchdb_create_admin_user: true\n")
    specs, kube = read_apps(root), FakeKube()
    first = generated_values(kube, "dev", specs)
    assert list(first) == ["couchdb-admin"] and first["couchdb-admin"]["username"] == "admin"
    secret, = [o for o in render(specs[0], "r/x:1", {"namespace": "dev", "generated": first}) if o["kind"] == "Secret"]
    kube.apply(secret)
    assert generated_values(kube, "dev", specs) == first
    assert generated_values(kube, "prod", specs)["couchdb-admin"]["password"] != first["couchdb-admin"]["password"]


def test_url_passwords_are_hidden_in_notes_and_diffs_but_references_are_shown(tmp_path):
    from ansible_collections.qi.convergence.plugins.module_utils.manifests import mask
    from ansible_collections.qi.convergence.plugins.module_utils.url_credentials import hide_password
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    assert hide_password("x=http://admin:hunter2@couchdb:5984/db y") == "x=http://admin:***@couchdb:5984/db y"
    assert hide_password("http://$(U):$(P)@couchdb:5984") == "http://$(U):$(P)@couchdb:5984"
    assert hide_password("http://couchdb:5984/a@b") == "http://couchdb:5984/a@b"
    root = _system(tmp_path)
    (tmp_path / "provisioning" / "prefs-vars.yml").write_text(
        "nodejs_app_name: preferences\nnodejs_app_tcp_port: 8081\n"
        "nodejs_app_env_vars:\n  - COUCHDB_URL=http://admin:hunter2@localhost:5984/preferences\n")
    prefs = read_apps(root)[1]
    assert "hunter2" not in json.dumps(prefs["notes"]) and any("http://admin:***@couchdb:5984" in n for n in prefs["notes"])
    assert any("COUCHDB_URL holds a password in its URL" in n for n in prefs["notes"])
    env = {"env": {"COUCHDB_URL": "http://admin:hunter2@couchdb:5984/preferences"}}
    deployment = [o for o in render(prefs, "r/x:1", env) if o["kind"] == "Deployment"][0]
    shown = json.dumps(mask(deployment))
    assert "hunter2" not in shown and "http://admin:***@couchdb:5984/preferences" in shown
    assert "hunter2" in json.dumps(deployment)  # masking shows a copy; the object applied is whole


def test_the_official_couchdb_image_named_in_the_inventory_replaces_the_stand_in(tmp_path):
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    db, prefs, flow = read_apps(_system(tmp_path), prebuilt={"couchdb": "couchdb:3"})
    assert db["prebuilt"] == "couchdb:3" and "prebuilt" not in prefs
    assert db["component"]["storage"] == {"path": "/opt/couchdb/data"}
    assert any("CouchDB (the official image) in place of the PouchDB Server 4.2.0 stand-in" in n for n in db["notes"])
    # It will not start without an admin: one is generated even though the vars did not ask, and its readers use it.
    assert db["deploy"]["generated_secrets"][0]["name"] == "couchdb-admin"
    assert prefs["deploy"]["pod_env"]["COUCHDB_URL"].startswith("http://$(QI_COUCHDB_USER):$(QI_COUCHDB_PASSWORD)@")
    objs = render(db, "couchdb:3", {"generated": {"couchdb-admin": {"username": "admin", "password": "p"}}})
    sts, = [o for o in objs if o["kind"] == "StatefulSet"]
    pod = sts["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 5984 and pod["securityContext"]["fsGroup"] == 5984
    app = pod["containers"][0]
    assert "command" not in app and app["image"] == "couchdb:3"
    assert {"name": "data", "mountPath": "/opt/couchdb/data"} in app["volumeMounts"]
    assert "/opt/couchdb/etc/local.d" in [m["mountPath"] for m in app["volumeMounts"]]
    hook = app["lifecycle"]["postStart"]["exec"]["command"][2]
    assert "for db in _users _replicator preferences;" in hook and "/_up" in hook
    assert app["readinessProbe"]["httpGet"]["path"] == "/_up"


def test_role_variables_naming_another_components_localhost_port_are_rewired_for_the_build(tmp_path):
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    root = _system(tmp_path)
    # GPII universal's preferences-server-vars.yml: its role templated this into the server's config file.
    with open(str(tmp_path / "provisioning" / "prefs-vars.yml"), "a") as f:
        f.write("preferences_server_couchdb_host_address: localhost:5984\nown_address: localhost:8081\n"
                "unrelated: localhost:9999\n")
    db, prefs, _flow = read_apps(root)
    assert prefs["build"]["vars"]["preferences_server_couchdb_host_address"] == "couchdb:5984"
    # Its own port and a port no component serves stay as they were (and are not passed again).
    assert "own_address" not in prefs["build"]["vars"] and "unrelated" not in prefs["build"]["vars"]
    assert any("role variable preferences_server_couchdb_host_address=couchdb:5984 for the build" in n
               for n in prefs["notes"])
    assert db["build"]["vars"] == {}
