"""Throwaway containers and images go in the background, an image only after the containers being removed (one may
be of it), and wait_for_removals() returns only when all are gone."""
import threading
import time

from ansible_collections.qi.convergence.plugins.plugin_utils.image import docker_client as dc


class FakeContainer:
    def __init__(self, log, name, seconds):
        self.log, self.name, self.seconds = log, name, seconds

    def remove(self, force=False):
        time.sleep(self.seconds)
        self.log.append(("container", self.name, force))


class FakeImages:
    def __init__(self, log, fail=False):
        self.log, self.fail = log, fail

    def remove(self, ref, force=False):
        if self.fail:
            raise dc.docker.errors.ImageNotFound("no such image: " + ref)
        self.log.append(("image", ref, force))


class FakeClient:
    def __init__(self, log, fail=False):
        self.images = FakeImages(log, fail)


def test_an_image_goes_after_the_containers_being_removed_and_the_wait_waits_for_all():
    log = []
    started = time.monotonic()
    dc.remove_quietly(FakeContainer(log, "tests", 0.3))
    dc.remove_image_quietly(FakeClient(log), "app:full")
    assert time.monotonic() - started < 0.2 and log == []
    dc.wait_for_removals()
    assert log == [("container", "tests", True), ("image", "app:full", True)]
    assert not [t for t in threading.enumerate() if t.name == "qi-remove"]


def test_nothing_to_remove_and_a_missing_image_are_quiet():
    dc.remove_quietly(None)
    dc.remove_image_quietly(FakeClient([], fail=True), "gone:tag")
    dc.wait_for_removals()
    assert not [t for t in threading.enumerate() if t.name == "qi-remove"]
