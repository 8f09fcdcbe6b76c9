"""JUnit XML from the collection's task results: one testsuite per app, a case per phase and QI test command."""
import xml.etree.ElementTree as ET

from ansible_collections.qi.convergence.plugins.plugin_utils.report.junit import (
    build_cases, rollout_cases, spec_cases, to_xml)

BUILD_OK = {"name": "web", "image": "r/web@sha256:1", "cache_hit": False, "pushed": True,
            "tests": {"results": [{"command": "npm test", "rc": 0, "output": "3 passing"}]}}


def test_a_passing_pipeline():
    suites = {}
    for found in (spec_cases({"specs": [{"name": "web", "read_files": [".qi.yml"], "service": True}]}, 0.1),
                  build_cases({"builds": [BUILD_OK]}, 10.0),
                  rollout_cases({"releases": [{"release": "web", "revision": 2, "url": "http://127.0.0.1:1/"}]}, 3, [])):
        for app, cases in found.items():
            suites.setdefault(app, []).extend(cases)
    root = ET.fromstring(to_xml(suites))
    assert root.get("tests") == "5" and root.get("failures") == "0"
    names = [c.get("name") for c in root.find("testsuite[@name='web']")]
    assert names == ["spec", "build", "test: npm test", "push", "rollout"]


def test_a_failing_test_command_is_a_failed_case_with_its_output():
    failed = {"failed": True, "failed_app": "web", "msg": "test command failed in web (exit 1): npm test",
              "builds": [], "tests": {"results": [{"command": "npm test", "rc": 1, "output": "AssertionError: 42"},
                                                  {"command": "npm run lint", "rc": None, "output": ""}]}}
    suite = ET.fromstring(to_xml(build_cases(failed, 5.0))).find("testsuite[@name='web']")
    assert suite.get("failures") == "1" and suite.get("skipped") == "2"
    case = suite.find("testcase[@name='test: npm test']")
    assert "exit 1" in case.find("failure").text and "AssertionError: 42" in case.find("system-out").text
    assert suite.find("testcase[@name='test: npm run lint']/skipped") is not None
    assert suite.find("testcase[@name='build']/failure") is None


def test_a_failed_spec_names_the_file_and_a_failed_rollout_every_service():
    spec = spec_cases({"failed": True, "file": ".qi.yml", "msg": ".qi.yml:2, key 'setup': expected a list"}, 0.1)
    assert spec[".qi.yml"][0]["failure"].startswith(".qi.yml:2")
    rollout = rollout_cases({"failed": True, "msg": "CrashLoopBackOff"}, 30, ["a", "b"])
    assert sorted(rollout) == ["a", "b"] and rollout["a"][0]["failure"] == "CrashLoopBackOff"


def test_a_cached_test_result_is_reported_as_skipped_naming_the_build_that_ran_it():
    hit = dict(BUILD_OK, cache_hit=True, pushed=False,
               tests={"results": [{"command": "npm test", "rc": 0, "output": "", "cached": True}], "cached": True})
    suite = ET.fromstring(to_xml(build_cases({"builds": [hit]}, 1.0))).find("testsuite[@name='web']")
    skipped = suite.find("testcase[@name='test: npm test']/skipped")
    assert skipped.get("message") == "passed in the build that produced r/web@sha256:1"
    assert suite.get("skipped") == "1" and suite.get("failures") == "0"
