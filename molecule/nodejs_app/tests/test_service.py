"""testinfra: the service the legacy provisioning set up runs under systemd and answers."""


def test_service_running_and_enabled(host):
    svc = host.service("nodejs-hello")
    assert svc.is_running and svc.is_enabled


def test_runs_as_app_user(host):
    pid = host.check_output("systemctl show -p MainPID --value nodejs-hello")
    uid = host.check_output("awk '/^Uid:/{print $2}' /proc/%s/status" % pid)
    assert host.user("nodejs").uid == int(uid)
    assert host.check_output("tr '\\0' ' ' < /proc/%s/cmdline" % pid).split()[1:] == ["server.js"]


def test_answers_with_the_provisioned_env(host):
    body = host.check_output("python3 -c \"import urllib.request;print(urllib.request.urlopen("
                             "'http://127.0.0.1:8080/').read().decode())\"")
    assert '"greeting":"Hello from provisioning"' in body and '"env":"production"' in body


def test_env_file_from_vars(host):
    env = host.file("/etc/default/nodejs-hello")
    assert env.contains("GREETING=Hello from provisioning") and env.mode == 0o640
    assert env.contains("NODEJS_HELLO_TCP_PORT=8080")


def test_the_node_version_the_qi_yml_asks_for(host):
    assert host.check_output("/usr/local/bin/node -v") == "v4.3.1"
    assert '"node":"v4.3.1"' in host.check_output(
        "python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8080/').read().decode())\"")


def test_npm_install_ran_as_the_app_user(host):
    deps = host.file("/opt/nodejs-hello/node_modules/ms")
    assert deps.is_directory and deps.user == "nodejs"
