"""What the facts and secrets roles left on a Debian host that looks like a Vagrant VM."""
import json


def test_facts_describe_this_host(host):
    facts = json.loads(host.file("/etc/qi-facts.json").content_string)
    # A Debian container with /home/vagrant, outside an image build: Debian, Docker and Vagrant; no RPM.
    assert facts == {"is_debian": True, "is_centos": False, "is_fedora": False, "is_atomic": False,
                     "has_rpm": False, "is_docker": True, "is_vagrant": True}


def test_secrets_land_in_a_root_only_env_file(host):
    env = host.file("/etc/default/app-secrets")
    assert (env.user, env.group, env.mode) == ("root", "root", 0o600)
    assert env.content_string.splitlines() == ["DB_PASSWORD=s3cret value", "API_TOKEN='quoted'"]
