"""Arbitrary YAML documents: a valid spec or a clean QiError, never another exception, each within a second."""
import time

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError

KEYS = ["app_name", "app_start_script", "app_tcp_port", "software_stack", "setup", "env_runtime", "build", "run",
        "health", "deploy", "replicas", "service_type", "env", "command", "path", "port", "sidecars", "name", "image"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["web", "app.py", "NodePort", "/h", "8080", "linux"]))
docs = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=5),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), kids, max_size=6)), max_leaves=30)
from appfolder import read_app


def check(tmp_path, text):
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / ".qi.yml").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    start = time.monotonic()
    try:
        spec = read_app(str(app))
        assert isinstance(spec, dict) and spec["name"]
    except QiError as e:
        assert str(e)
    assert time.monotonic() - start < 1.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs)
def test_arbitrary_documents(tmp_path, doc):
    check(tmp_path, yaml.safe_dump(doc))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(KEYS), docs, max_size=8))
def test_arbitrary_qi_mappings(tmp_path, doc):
    check(tmp_path, yaml.safe_dump(dict(doc, app_name="web", app_start_script="a.py")))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_arbitrary_text(tmp_path, text):
    check(tmp_path, text)
