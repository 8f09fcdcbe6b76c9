# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a build is told besides the spec: container_image's options, typed at the module's edge."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from dataclasses import dataclass, field
from typing import Dict, List, Optional


def _split(paths):
    return [p for p in (paths or "").split(":") if p]


@dataclass(frozen=True)
class BuildOptions:
    base_image: Optional[str]               # None: the spec's build.base_image
    log_dir: str
    registry: str = ""                      # empty: the image stays in the local engine
    push: bool = True
    registry_auth: Optional[Dict[str, str]] = field(default=None, repr=False)
    phases: List[str] = field(default_factory=list)     # empty: the spec's build.phases
    overrides: dict = field(default_factory=dict)
    roles_paths: List[str] = field(default_factory=list)
    collections_paths: List[str] = field(default_factory=list)
    role_map: dict = field(default_factory=dict)
    rpm_map: dict = field(default_factory=dict)
    prebuilt: dict = field(default_factory=dict)    # component name: image run instead of built
    state_dir: Optional[str] = None
    test: bool = True
    test_timeout: int = 1800
    docker_host: Optional[str] = None
    network: Optional[str] = None
    revision: Optional[str] = None
    version: Optional[str] = None
    runtime_only: Optional[bool] = None     # None: each app's .qi.yml build.runtime_only
    runtime_keep: List[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, p):
        auth = None
        if p.get("registry_username"):
            auth = {"username": p["registry_username"], "password": p["registry_password"]}
        return cls(base_image=p.get("base_image"), log_dir=p["log_dir"], registry=p.get("registry") or "",
                   push=p.get("push", True), registry_auth=auth, phases=list(p.get("phases") or []),
                   overrides=dict(p.get("overrides") or {}), roles_paths=_split(p.get("roles_path")),
                   collections_paths=_split(p.get("collections_path")), role_map=p.get("role_map") or {},
                   rpm_map=p.get("rpm_map") or {}, prebuilt=p.get("prebuilt") or {}, state_dir=p.get("state_dir"), test=p.get("test", True),
                   test_timeout=p.get("test_timeout") or 1800, docker_host=p.get("docker_host"),
                   network=p.get("network") or None, revision=p.get("revision"), version=p.get("version"),
                   runtime_only=p.get("runtime_only"), runtime_keep=list(p.get("runtime_keep") or []))

    @property
    def publishes(self):
        return bool(self.registry and self.push)
