"""The trivial role's outcome, read inside the container."""


def test_smoke_file(host):
    f = host.file("/etc/qi-smoke")
    assert f.exists and f.mode == 0o644
    assert f.content_string == "converged by molecule\n"
