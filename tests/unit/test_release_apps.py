"""k8s_release's app_dirs: the services of the folders, the libraries said, the legacy secrets found."""
import os
import shutil

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.release.app_dirs import from_app_dirs

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def options(dirs, **kw):
    return dict(dict(app_dirs=dirs, role_map={}, rpm_map={}, prebuilt={}, images={}, secrets={}, env_secret_values=None,
                     release=None, spec=None, specs=None), **kw)


def test_services_are_released_and_libraries_said():
    p, not_deployed = from_app_dirs(options([os.path.join(EXAMPLES, "qi-apps")]), DataLoader(), [])
    assert [s["name"] for s in p["specs"]] == ["greeter"] and p["app_dirs"] is None
    assert [a["name"] for a in not_deployed] == ["text-utils"] and "not deployed" in not_deployed[0]["why"]


def test_one_folder_with_a_release_name_is_one_named_release():
    p = from_app_dirs(options([os.path.join(EXAMPLES, "nodejs-hello")], release="hello-canary"), DataLoader(), [])[0]
    assert p["release"] == "hello-canary" and p["spec"]["name"] == "nodejs-hello" and p["specs"] is None


def test_no_folder_is_a_clear_error():
    with pytest.raises(QiError, match="no application folder"):
        from_app_dirs(options([""]), DataLoader(), [])


def test_legacy_secrets_from_the_inventory_else_the_apps_secrets_file(tmp_path):
    app = tmp_path / "legacy-secrets"
    shutil.copytree(os.path.join(EXAMPLES, "legacy-secrets"), app)
    p = from_app_dirs(options([str(app)]), DataLoader(), [])[0]
    name = p["specs"][0]["deploy"]["env_secret"]["name"]
    assert p["secrets"] == {name: []}
    (app / "provisioning" / "secrets.yml").write_text("secrets_env_vars:\n  - GPII_OAUTH2_AUTH_CLIENT_ID=from-file\n")
    p = from_app_dirs(options([str(app)]), DataLoader(), [])[0]
    assert p["secrets"][name] == ["GPII_OAUTH2_AUTH_CLIENT_ID=from-file"]
    p = from_app_dirs(options([str(app)], env_secret_values=["A=from-inventory"]), DataLoader(), [])[0]
    assert p["secrets"][name] == ["A=from-inventory"]
    (app / "provisioning" / "secrets.yml").write_text("secrets_env_vars: A=not-a-list\n")
    with pytest.raises(QiError, match="expected a list of NAME=value strings") as e:
        from_app_dirs(options([str(app)]), DataLoader(), [])
    assert e.value.key == "secrets_env_vars" and e.value.path.endswith("secrets.yml")


def test_a_vault_encrypted_secrets_file_is_read_with_the_plays_vault_secrets(tmp_path):
    app = tmp_path / "legacy-secrets"
    shutil.copytree(os.path.join(EXAMPLES, "legacy-secrets"), app)
    secret = [("default", VaultSecret(b"correct horse"))]
    text = "secrets_env_vars:\n  - GPII_OAUTH2_AUTH_CLIENT_SECRET=from-vault\n"
    (app / "provisioning" / "secrets.yml").write_bytes(VaultLib(secret).encrypt(text))
    loader = DataLoader()
    loader.set_vault_secrets(secret)
    p = from_app_dirs(options([str(app)]), loader, [])[0]
    assert list(p["secrets"].values()) == [["GPII_OAUTH2_AUTH_CLIENT_SECRET=from-vault"]]
    with pytest.raises(QiError, match="cannot be read by Ansible"):
        from_app_dirs(options([str(app)]), DataLoader(), [])
