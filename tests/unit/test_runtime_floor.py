"""meta/runtime.yml states the real floor: the collection imports what the oldest ansible-core it claims has."""
import os

import yaml
from ansible.module_utils.compat.version import LooseVersion

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_requires_ansible_is_the_release_that_brought_trust_as_template():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as f:
        floor = yaml.safe_load(f)["requires_ansible"]
    assert floor.startswith(">=")
    # ansible.template.trust_as_template (used to template .qi.yml commands) came with ansible-core 2.19.
    assert LooseVersion(floor[2:]) >= LooseVersion("2.19.0")
    from ansible.template import trust_as_template  # noqa: F401  the floor's API is there
