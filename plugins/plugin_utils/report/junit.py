# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: JUnit XML (the format Jenkins, GitLab and GitHub Actions read) from per-app test cases, and the test
cases the collection's task results stand for."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import xml.etree.ElementTree as ET

MAX_OUTPUT = 20000
# Cases in the order the pipeline runs them (QI test commands sit between build and push).
_ORDER = {"spec": 0, "build": 1, "test": 2, "push": 3, "rollout": 4}


def case(name, seconds=0.0, failure=None, output="", skipped=None):
    return {"name": name, "seconds": round(float(seconds or 0), 3), "failure": failure, "output": output or "",
            "skipped": skipped}


def spec_cases(result, seconds):
    """app_spec: a 'spec' case per app read, or one failed case naming the file."""
    if result.get("failed"):
        where = result.get("file") or "app folder"
        return {where: [case("spec", seconds, failure=result.get("msg", "failed"))]}
    specs = result.get("specs") or ([result["spec"]] if result.get("spec") else [])
    return dict((s["name"], [case("spec", seconds, output="read %s" % ", ".join(s.get("read_files") or []))])
                for s in specs)


def _test_cases(tests, failed_msg=None, image=None):
    out = []
    for r in (tests or {}).get("results") or []:
        name = "test: %s" % r["command"]
        if r.get("cached"):
            # Not run now: a CI report must not count it as a fresh pass.
            out.append(case(name, skipped="passed in the build that produced %s" % (image or "this image")))
        elif r.get("rc") == 0:
            out.append(case(name, output=r.get("output", "")))
        elif r.get("rc") is None:
            out.append(case(name, skipped="not run: an earlier command failed"))
        else:
            out.append(case(name, failure=failed_msg or "exit %s" % r["rc"], output=r.get("output", "")))
    return out


def build_cases(result, seconds):
    """container_image: build, each QI test command and push, per app."""
    apps = {}
    builds = result.get("builds") or []
    share = seconds / max(1, len(builds) + (1 if result.get("failed") else 0))
    for b in builds:
        built = "%s%s" % (b.get("image") or b.get("image_tag"), " (cache hit)" if b.get("cache_hit") else "")
        cases = [case("build", share, output=built)]
        cases += _test_cases(b.get("tests"), image=b.get("image") or b.get("image_tag"))
        cases.append(case("push", output="pushed" if b.get("pushed") else "already in the registry"))
        apps[b["name"]] = cases
    if result.get("failed"):
        name = result.get("failed_app") or "build"
        tests = result.get("tests")
        if tests and tests.get("results"):
            cases = [case("build", share)] + _test_cases(tests, result.get("msg"))
        else:
            cases = [case("build", share, failure=result.get("msg", "failed"))]
        cases.append(case("push", skipped="nothing is pushed after a failure"))
        apps[name] = cases
    return apps


def rollout_cases(result, seconds, services):
    """k8s_release: a 'rollout' case per release (or per service the failed call deployed)."""
    if result.get("failed"):
        return dict((name, [case("rollout", seconds, failure=result.get("msg", "failed"))]) for name in services)
    releases = result.get("releases") or []
    return dict((r.get("release"), [case("rollout", seconds / max(1, len(releases)), output="revision %s at %s" % (
        r.get("revision"), r.get("url") or "-"))]) for r in releases)


def to_xml(suites, name="qi.convergence"):
    """suites: {app: [case...]} in order -> JUnit XML bytes."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for app, cases in suites.items():
        cases = sorted(cases, key=lambda c: _ORDER.get(c["name"].split(":")[0], 2))
        failures = sum(1 for c in cases if c["failure"])
        skipped = sum(1 for c in cases if c["skipped"])
        suite = ET.SubElement(root, "testsuite", name=str(app), tests=str(len(cases)), failures=str(failures),
                              errors="0", skipped=str(skipped),
                              time="%.3f" % sum(c["seconds"] for c in cases))
        for c in cases:
            el = ET.SubElement(suite, "testcase", classname=str(app), name=c["name"], time="%.3f" % c["seconds"])
            if c["failure"]:
                fail = ET.SubElement(el, "failure", message=c["failure"].splitlines()[0][:500] if c["failure"] else "")
                fail.text = c["failure"]
            if c["skipped"]:
                ET.SubElement(el, "skipped", message=c["skipped"])
            if c["output"]:
                ET.SubElement(el, "system-out").text = c["output"][-MAX_OUTPUT:]
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["skipped"] += skipped
    for k, v in totals.items():
        root.set(k, str(v))
    return ET.tostring(root, encoding="utf-8")
