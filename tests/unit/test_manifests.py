"""Rendering: what each environment setting and spec key produces."""
import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.manifests import render

from appfolder import make_app, read_app

IMAGE = "127.0.0.1:5000/web@sha256:" + "ab" * 32
QI = {"app_name": "web", "app_start_script": "app.js", "software_stack": "nodejs", "app_tcp_port": 8000,
      "app_start_service": True, "health": {"path": "/health"}}


def objects(tmp_path, env=None, **deploy):
    spec = read_app(make_app(tmp_path / "a", qi=dict(QI, kubernetes=deploy) if deploy else QI))
    return dict((o["kind"], o) for o in render(spec, IMAGE, env or {}))


def pod(objs):
    return objs["Deployment"]["spec"]["template"]["spec"]


def test_default_objects_and_labels(tmp_path):
    objs = objects(tmp_path)
    assert sorted(objs) == ["Deployment", "Service", "ServiceAccount"]
    for o in objs.values():
        assert o["metadata"]["labels"]["app.kubernetes.io/name"] == "web"
        assert o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "qi.convergence"
        assert o["metadata"]["labels"]["app.kubernetes.io/version"] == "ab" * 6


def test_image_pinned_and_secure_pod(tmp_path):
    p = pod(objects(tmp_path))
    app = p["containers"][0]
    assert app["image"] == IMAGE
    sc = app["securityContext"]
    assert sc["readOnlyRootFilesystem"] and sc["runAsNonRoot"] and not sc["allowPrivilegeEscalation"]
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {"name": "tmp", "mountPath": "/tmp"} in app["volumeMounts"]
    assert p["automountServiceAccountToken"] is False and p["serviceAccountName"] == "web"
    assert objects(tmp_path)["ServiceAccount"]["automountServiceAccountToken"] is False


def test_probes_from_health(tmp_path):
    app = pod(objects(tmp_path))["containers"][0]
    for kind in ("readinessProbe", "livenessProbe"):
        assert app[kind]["httpGet"] == {"path": "/health", "port": 8000}
    assert app["startupProbe"]["tcpSocket"] == {"port": 8000}


def test_prestop_and_grace(tmp_path):
    p = pod(objects(tmp_path, pre_stop_sleep=3, termination_grace_period=20))
    assert p["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 3}}}
    assert p["terminationGracePeriodSeconds"] == 20


def test_service_type_and_node_port_from_environment(tmp_path):
    svc = objects(tmp_path, {"service_type": "NodePort", "node_port": 30090})["Service"]
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["nodePort"] == 30090
    assert objects(tmp_path, {"service_type": "LoadBalancer"})["Service"]["spec"]["type"] == "LoadBalancer"
    assert objects(tmp_path)["Service"]["spec"]["type"] == "ClusterIP"


def test_replicas_and_resources_from_environment(tmp_path):
    res = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    dep = objects(tmp_path, {"replicas": 3, "resources": res})["Deployment"]
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["template"]["spec"]["containers"][0]["resources"] == res
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_config_files_become_mounted_configmaps(tmp_path):
    objs = objects(tmp_path, config_files=[{"name": "cfg", "mount_path": "/etc/web", "files": {"a.ini": "x=1"}}])
    assert objs["ConfigMap"]["data"] == {"a.ini": "x=1"}
    mounts = pod(objs)["containers"][0]["volumeMounts"]
    assert {"name": "config-cfg", "mountPath": "/etc/web", "readOnly": True} in mounts
    assert objs["Deployment"]["spec"]["template"]["metadata"]["annotations"]["qi-convergence.io/config-checksum"]


def test_secrets_from_inventory(tmp_path):
    objs = objects(tmp_path, {"secrets": {"db": {"DB_PASSWORD": "s3cret"}}},
                   secrets=[{"name": "db", "env": ["DB_PASSWORD"]}])
    assert objs["Secret"]["data"] == {"DB_PASSWORD": "czNjcmV0"}
    env = pod(objs)["containers"][0]["env"]
    assert {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "DB_PASSWORD"}}} in env


def test_missing_secret_values_is_a_clear_error(tmp_path):
    with pytest.raises(QiError) as e:
        objects(tmp_path, secrets=[{"name": "db", "env": ["DB_PASSWORD"]}])
    assert "secret 'db'" in str(e.value) and "app_deploy_secrets" in str(e.value)


def test_sidecars_and_init_containers(tmp_path):
    objs = objects(tmp_path,
                   sidecars=[{"name": "proxy", "image": "r/proxy:1", "pattern": "ambassador", "port": 9000,
                              "mount_shared": "/shared"},
                             {"name": "logs", "image": "r/adapter:1", "pattern": "adapter", "args": ["--json"]}],
                   init_containers=[{"name": "migrate", "image": "r/m:1", "command": ["migrate", "up"]}])
    p = pod(objs)
    assert [c["name"] for c in p["containers"]] == ["web", "proxy", "logs"]
    assert p["containers"][1]["ports"] == [{"name": "proxy", "containerPort": 9000}]
    assert {"name": "shared", "mountPath": "/shared"} in p["containers"][1]["volumeMounts"]
    assert p["containers"][2]["args"] == ["--json"]
    assert p["initContainers"][0]["command"] == ["migrate", "up"]
    assert all(c["securityContext"]["readOnlyRootFilesystem"] for c in p["containers"] + p["initContainers"])


def test_production_extras(tmp_path):
    objs = objects(tmp_path, {"replicas": 3, "pdb": True, "hpa": {"min": 3, "max": 6, "cpu": 70},
                              "anti_affinity": True, "network_policy": True,
                              "ingress": {"host": "web.example", "tls_secret": "web-tls", "class": "nginx"}})
    assert "replicas" not in objs["Deployment"]["spec"]
    assert objs["Deployment"]["metadata"]["annotations"]["qi-convergence.io/initial-replicas"] == "3"
    assert objs["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    assert "behavior" not in objs["HorizontalPodAutoscaler"]["spec"]
    assert objs["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    assert objs["Ingress"]["spec"]["tls"] == [{"hosts": ["web.example"], "secretName": "web-tls"}]
    assert objs["Ingress"]["spec"]["ingressClassName"] == "nginx"
    assert objs["NetworkPolicy"]["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8000}]}]
    assert "podAntiAffinity" in pod(objs)["affinity"]


def test_hpa_scale_down_window(tmp_path):
    objs = objects(tmp_path, {"hpa": {"min": 1, "max": 4, "scale_down_after": 30}})
    assert objs["HorizontalPodAutoscaler"]["spec"]["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 30}}


def test_namespace_everywhere(tmp_path):
    assert all(o["metadata"]["namespace"] == "prod" for o in objects(tmp_path, {"namespace": "prod"}).values())


def test_names_that_start_with_a_digit_cannot_be_deployed(tmp_path):
    from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
    from ansible_collections.qi.convergence.plugins.module_utils.manifests import check_service_name
    with pytest.raises(QiError) as e:
        check_service_name({"name": "2048-game", "app_dir": "/apps/game"})
    assert "/apps/game/.qi.yml, key 'app_name'" in str(e.value) and "DNS-1035" in str(e.value)
    check_service_name({"name": "game-2048"})


def test_production_placement_and_annotations(tmp_path):
    objs = objects(tmp_path, {"image_pull_secrets": ["regcred"], "node_selector": {"pool": "apps"},
                              "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
                              "topology_spread": "kubernetes.io/hostname",
                              "pod_annotations": {"prometheus.io/scrape": "true"},
                              "service_annotations": {"cloud/lb-internal": True},
                              "ingress": {"host": "web.example.org"},
                              "ingress_annotations": {"cert-manager.io/cluster-issuer": "le"}})
    spec = pod(objs)
    assert spec["imagePullSecrets"] == [{"name": "regcred"}] and spec["nodeSelector"] == {"pool": "apps"}
    assert spec["tolerations"][0]["key"] == "dedicated"
    assert spec["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert objs["Deployment"]["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert objs["Service"]["metadata"]["annotations"] == {"cloud/lb-internal": "True"}
    assert objs["Ingress"]["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "le"}


def component_objects(tmp_path, kind, env=None, **extra):
    entry = dict(QI, kind=kind, **extra)
    spec = read_app(make_app(tmp_path / "c", qi={"components": [entry]}))
    return [(o["kind"], o["metadata"]["name"]) for o in render(spec, IMAGE, env or {})], \
        dict((o["kind"] if o["kind"] != "Service" or o["spec"].get("clusterIP") != "None" else "Headless", o)
             for o in render(spec, IMAGE, env or {}))


def test_a_stateful_component_is_a_statefulset_with_its_volume_and_two_services(tmp_path):
    kinds, objs = component_objects(tmp_path, "stateful", {"storage_class": "fast"},
                                    storage={"size": "2Gi", "path": "/var/lib/db"})
    assert kinds == [("ServiceAccount", "web"), ("StatefulSet", "web"), ("Service", "web"), ("Service", "web-pods")]
    sts = objs["StatefulSet"]["spec"]
    assert sts["serviceName"] == "web-pods" and sts["replicas"] == 1
    assert sts["volumeClaimTemplates"][0]["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                                                      "resources": {"requests": {"storage": "2Gi"}}}
    assert {"name": "data", "mountPath": "/var/lib/db"} in sts["template"]["spec"]["containers"][0]["volumeMounts"]
    # The probes stay: a database is waited for until it is ready.
    assert "readinessProbe" in sts["template"]["spec"]["containers"][0]
    assert objs["Headless"]["spec"]["publishNotReadyAddresses"] is True
    # Production keeps a removed component's data; dev (app_deploy_volume_claims_on_delete: Delete) frees it.
    assert sts["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    _kinds, dev = component_objects(tmp_path, "stateful", {"volume_claims_on_delete": "Delete"})
    assert dev["StatefulSet"]["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"


def test_a_job_component_runs_once_without_probes_or_a_service(tmp_path):
    kinds, objs = component_objects(tmp_path, "job", {"pdb": True, "hpa": {"min": 2}})
    assert kinds == [("ServiceAccount", "web"), ("Job", "web")]
    template = objs["Job"]["spec"]["template"]["spec"]
    assert template["restartPolicy"] == "Never" and objs["Job"]["spec"]["backoffLimit"] == 1
    assert not set(template["containers"][0]) & {"readinessProbe", "livenessProbe", "startupProbe", "ports"}


def test_a_cronjob_component_runs_on_its_schedule(tmp_path):
    kinds, objs = component_objects(tmp_path, "cronjob", schedule="0 3 * * *")
    assert kinds == [("ServiceAccount", "web"), ("CronJob", "web")]
    spec = objs["CronJob"]["spec"]
    assert spec["schedule"] == "0 3 * * *" and spec["concurrencyPolicy"] == "Forbid"
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"
