"""The deployment files under deploy/: the image, docker compose and the Kubernetes (kustomize) manifests.

Every Kubernetes object is validated against the Kubernetes JSON schemas shipped inside the
``kubernetes-validate`` package (offline, strict: unknown fields fail), as written and as the example
overlay renders it. The rest checks what a schema cannot: that probes, resources, security settings,
selectors, secrets, network policies, the compose wiring and the Dockerfile fit this project.
"""

from __future__ import annotations

import copy
import functools
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError, latest_version

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAY = K8S / "overlays" / "example"
COMPOSE_FILE = DEPLOY / "compose.yaml"
PROMETHEUS_FILE = DEPLOY / "prometheus.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
HEALTHCHECK_SCRIPT = DEPLOY / "healthcheck.py"

SERVICES = ("registry", "risk", "reporting")
DEFAULT_SETTINGS = Settings()
PORTS = {service: getattr(DEFAULT_SETTINGS, f"{service}_port") for service in SERVICES}
#: The oldest Kubernetes the manifests claim to support, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.28.0", latest_version())
NAME_LABEL, COMPONENT_LABEL = "app.kubernetes.io/name", "app.kubernetes.io/component"
APP = "aigov"
IMAGE_UID = 10001
CLUSTER_SCOPED_KINDS = {"Namespace"}
#: The kustomization fields the renderer below understands; anything else must fail loudly, not be ignored.
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
#: Settings the image and its health check read besides the Settings class.
IMAGE_ONLY_VARIABLES = {"AIGOV_SERVICE", "AIGOV_HEALTHCHECK_TIMEOUT"}
SECRET_SETTINGS = {"AIGOV_DATABASE_URL", "AIGOV_REGISTRY_DATABASE_URL", "AIGOV_RISK_DATABASE_URL"}


# -- reading the files ---------------------------------------------------------------------------------------


def documents(path: Path) -> list[Any]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def yaml_files() -> list[Path]:
    return sorted(path for pattern in ("*.yaml", "*.yml") for path in DEPLOY.rglob(pattern))


def kustomization_dirs() -> list[Path]:
    return sorted(path.parent for path in K8S.rglob("kustomization.yaml"))


def kustomization(directory: Path) -> dict[str, Any]:
    (document,) = documents(directory / "kustomization.yaml")
    return document


def kustomize_references(directory: Path) -> list[tuple[str, Path]]:
    """Every path a kustomization names, with the field naming it."""
    spec = kustomization(directory)
    references = [("resources", directory / entry) for entry in spec.get("resources", [])]
    references += [("patches", directory / patch["path"]) for patch in spec.get("patches", []) if "path" in patch]
    return references


def patch_files() -> set[Path]:
    return {
        path.resolve()
        for directory in kustomization_dirs()
        for field, path in kustomize_references(directory)
        if field == "patches"
    }


def kubernetes_object_files() -> list[Path]:
    """The manifests that hold whole Kubernetes objects (not kustomizations, not patches)."""
    patches = patch_files()
    return [
        path
        for path in yaml_files()
        if K8S in path.parents and path.name != "kustomization.yaml" and path.resolve() not in patches
    ]


def deep_merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """A strategic-merge patch for fields without a merge key: maps merge, lists and scalars are replaced."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def pod_template_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    template = obj.get("spec", {}).get("template")
    return [template["spec"]] if template else []


def render(directory: Path) -> list[dict[str, Any]]:
    """What ``kubectl kustomize`` makes of ``directory``, for the fields these kustomizations use."""
    spec = kustomization(directory)
    unknown = set(spec) - KUSTOMIZATION_FIELDS
    if unknown:
        raise NotImplementedError(f"{directory}: teach render() the kustomization fields {sorted(unknown)}")
    objects: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        target = directory / entry
        objects += render(target) if target.is_dir() else documents(target)
    apply_patches(directory, spec, objects)
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED_KINDS:
                obj["metadata"]["namespace"] = spec["namespace"]
    for image in spec.get("images", []):
        set_image(objects, image)
    return objects


def apply_patches(directory: Path, spec: dict[str, Any], objects: list[dict[str, Any]]) -> None:
    """Strategic-merge each patch into the one object it names (kind and name)."""
    for patch in spec.get("patches", []):
        (patch_object,) = documents(directory / patch["path"])
        targets = [
            obj
            for obj in objects
            if obj["kind"] == patch_object["kind"] and obj["metadata"]["name"] == patch_object["metadata"]["name"]
        ]
        if len(targets) != 1:
            raise LookupError(f"{directory}: patch {patch['path']} matches {len(targets)} objects, not one")
        deep_merge(targets[0], patch_object)


def set_image(objects: list[dict[str, Any]], image: dict[str, str]) -> None:
    """Kustomize's ``images:`` entry: a new name and tag for every container running ``image["name"]``."""
    for obj in objects:
        for pod in pod_template_specs(obj):
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"


def object_id(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [obj for obj in by_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [container for pod in pod_template_specs(obj) for container in pod["containers"]]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def quantity(value: str | int) -> float:
    """A Kubernetes resource quantity as a number (cores or bytes)."""
    text = str(value)
    suffixes = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in sorted(suffixes.items(), key=lambda item: -len(item[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def settings_variables() -> set[str]:
    return {f"AIGOV_{name.upper()}" for name in Settings.model_fields}


@functools.cache
def rendered(directory: Path) -> list[dict[str, Any]]:
    return render(directory)


def base_objects() -> list[dict[str, Any]]:
    return rendered(BASE)


def overlay_objects() -> list[dict[str, Any]]:
    return rendered(OVERLAY)


def deployments() -> dict[str, dict[str, Any]]:
    """The base's Deployments by component."""
    return {obj["metadata"]["labels"][COMPONENT_LABEL]: obj for obj in by_kind(base_objects(), "Deployment")}


def pod_workloads() -> list[dict[str, Any]]:
    return by_kind(base_objects(), "Deployment") + by_kind(base_objects(), "Job")


def config() -> dict[str, str]:
    return named(base_objects(), "ConfigMap", "aigov-config")["data"]


# -- every file is read, and every Kubernetes object matches the Kubernetes schema --------------------------


def test_every_yaml_file_under_deploy_parses_and_is_covered_by_these_tests() -> None:
    kinds_of_file = {COMPOSE_FILE: "compose", PROMETHEUS_FILE: "prometheus"}
    object_files, patches = set(kubernetes_object_files()), patch_files()
    uncovered = []
    for path in yaml_files():
        assert documents(path), f"{path} holds no YAML document"
        if path in kinds_of_file or path.name == "kustomization.yaml" or path.resolve() in patches:
            continue
        if path not in object_files:
            uncovered.append(path)
            continue
        for document in documents(path):
            assert {"apiVersion", "kind", "metadata"} <= set(document), f"{path}: not a Kubernetes object: {document}"
            assert document["metadata"].get("name"), f"{path}: {document['kind']} without a name"
    assert not uncovered, f"YAML files no test here checks: {uncovered}"


STANDALONE_OBJECTS = [(path, obj) for path in kubernetes_object_files() for obj in documents(path)]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    ("path", "obj"),
    STANDALONE_OBJECTS,
    ids=[f"{path.relative_to(K8S)}:{object_id(obj)}" for path, obj in STANDALONE_OBJECTS],
)
def test_kubernetes_object_as_written_matches_the_kubernetes_schema(
    path: Path, obj: dict[str, Any], version: str
) -> None:
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except ValidationError as error:
        pytest.fail(
            f"{path}: {object_id(obj)} against Kubernetes {version}: {'.'.join(map(str, error.path))}: {error.message}"
        )
    except SchemaNotFoundError as error:
        pytest.fail(f"{path}: {error.message}")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_example_overlay_as_rendered_matches_the_kubernetes_schema(version: str) -> None:
    """The patched objects exist only after rendering; validate those too."""
    failures = []
    for obj in overlay_objects():
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except ValidationError as error:
            failures.append(f"{object_id(obj)}: {'.'.join(map(str, error.path))}: {error.message}")
        except SchemaNotFoundError as error:
            failures.append(error.message)
    assert not failures, failures


def test_schema_validation_runs_offline_and_rejects_broken_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the schema validator tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    deployment = deployments()["registry"]
    assert kubernetes_validate.validate(copy.deepcopy(deployment), KUBERNETES_VERSIONS[-1], strict=True)

    def container(obj: dict[str, Any]) -> dict[str, Any]:
        return obj["spec"]["template"]["spec"]["containers"][0]

    breakages = {
        "misspelt field": lambda obj: container(obj).__setitem__("readinesProbe", container(obj).pop("readinessProbe")),
        "wrong type": lambda obj: obj["spec"].__setitem__("replicas", "two"),
        "missing required field": lambda obj: container(obj).pop("name"),
        "port neither number nor name": lambda obj: container(obj)["livenessProbe"]["httpGet"].__setitem__("port", 8.5),
    }
    for what, breakage in breakages.items():
        broken = copy.deepcopy(deployment)
        breakage(broken)
        with pytest.raises(ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)
            pytest.fail(f"a Deployment with a {what} passed validation")
    with pytest.raises(SchemaNotFoundError):
        kubernetes_validate.validate(
            {"apiVersion": "apps/v1", "kind": "Deployent", "metadata": {"name": "x"}},
            KUBERNETES_VERSIONS[-1],
            strict=True,
        )


# -- kustomize ----------------------------------------------------------------------------------------------


def test_kustomizations_reference_only_files_that_exist() -> None:
    assert {BASE, OVERLAY} <= set(kustomization_dirs())
    missing = []
    for directory in kustomization_dirs():
        for field, path in kustomize_references(directory):
            if path.is_dir():
                if not (path / "kustomization.yaml").is_file():
                    missing.append(
                        f"{directory.relative_to(ROOT)}: {field} {path} is a directory without kustomization.yaml"
                    )
            elif not path.is_file():
                missing.append(f"{directory.relative_to(ROOT)}: {field} {path} does not exist")
    assert not missing, missing


def test_every_kubernetes_manifest_is_part_of_a_kustomization() -> None:
    referenced = {path.resolve() for directory in kustomization_dirs() for _, path in kustomize_references(directory)}
    orphans = [path for path in kubernetes_object_files() + sorted(patch_files()) if path.resolve() not in referenced]
    assert not orphans, f"manifests no kustomization includes: {orphans}"


def test_example_overlay_patches_objects_of_the_base_and_sets_namespace_and_image() -> None:
    spec = kustomization(OVERLAY)
    assert (OVERLAY / spec["resources"][0]).resolve() == BASE.resolve()
    base_ids = {object_id(obj) for obj in base_objects()}
    for patch in spec["patches"]:
        (patch_object,) = documents(OVERLAY / patch["path"])
        assert object_id(patch_object) in base_ids, (
            f"{patch['path']} patches {object_id(patch_object)}, which the base lacks"
        )
    for obj in overlay_objects():
        if obj["kind"] not in CLUSTER_SCOPED_KINDS:
            assert obj["metadata"].get("namespace") == spec["namespace"], object_id(obj)
    images = {container["image"] for obj in overlay_objects() for container in containers(obj)}
    (image,) = spec["images"]
    assert images == {f"{image['newName']}:{image['newTag']}"}


def test_kubectl_kustomize_renders_the_example_overlay_as_these_tests_read_it() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the overlay is checked through this module's own renderer only")
    result = subprocess.run([kubectl, "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rendered = [document for document in yaml.safe_load_all(result.stdout) if document]

    def key(obj: dict[str, Any]) -> tuple[str, str, str]:
        return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]

    assert {key(obj): obj for obj in rendered} == {key(obj): obj for obj in overlay_objects()}


# -- Deployments ---------------------------------------------------------------------------------------------


def test_each_service_has_a_two_replica_deployment_serving_it_on_its_port() -> None:
    assert set(deployments()) == set(SERVICES)
    for service, deployment in deployments().items():
        assert deployment["metadata"]["name"] == f"aigov-{service}"
        assert deployment["spec"]["replicas"] == 2
        (container,) = containers(deployment)
        assert container["command"] == ["aigov", "serve", service]
        assert env_of(container)["AIGOV_SERVICE"]["value"] == service
        assert [port["containerPort"] for port in container["ports"]] == [PORTS[service]]
        assert int(config()[f"AIGOV_{service.upper()}_PORT"]) == PORTS[service]


def test_every_deployment_has_readiness_on_readyz_and_liveness_on_healthz() -> None:
    for service, deployment in deployments().items():
        (container,) = containers(deployment)
        port_names = {port["name"] for port in container["ports"]} | {
            port["containerPort"] for port in container["ports"]
        }
        readiness, liveness = container.get("readinessProbe"), container.get("livenessProbe")
        assert readiness and liveness, f"{service}: readiness and liveness probes are required"
        assert readiness["httpGet"]["path"] == "/readyz", service
        assert liveness["httpGet"]["path"] == "/healthz", service
        assert readiness["httpGet"]["port"] in port_names and liveness["httpGet"]["port"] in port_names, service


def test_every_workload_requests_and_limits_cpu_and_memory() -> None:
    assert pod_workloads()
    for workload in pod_workloads():
        for container in containers(workload):
            resources = container.get("resources", {})
            for resource in ("cpu", "memory"):
                request = resources.get("requests", {}).get(resource)
                limit = resources.get("limits", {}).get(resource)
                assert request is not None and limit is not None, f"{object_id(workload)}: {resource} request and limit"
                assert quantity(request) <= quantity(limit), f"{object_id(workload)}: {resource} request above limit"


def test_every_workload_runs_as_the_image_user_non_root_with_a_read_only_root_filesystem() -> None:
    assert f"USER {IMAGE_UID}:{IMAGE_UID}" in dockerfile_stages()[-1]
    for workload in pod_workloads():
        (pod,) = pod_template_specs(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True, object_id(workload)
        assert pod["securityContext"]["runAsUser"] == IMAGE_UID, object_id(workload)
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", object_id(workload)
        assert pod.get("automountServiceAccountToken") is False, object_id(workload)
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context.get("runAsNonRoot", True) is True, object_id(workload)
            assert context["readOnlyRootFilesystem"] is True, object_id(workload)
            assert context["allowPrivilegeEscalation"] is False, object_id(workload)
            assert context["capabilities"]["drop"] == ["ALL"], object_id(workload)


def test_tmp_and_the_var_dir_are_empty_dirs_the_only_writable_paths() -> None:
    var_dir = config()["AIGOV_VAR_DIR"]
    image_env = " ".join(instruction for instruction in dockerfile_stages()[-1] if instruction.startswith("ENV "))
    assert f"AIGOV_VAR_DIR={var_dir}" in image_env.split(), "the image and the ConfigMap disagree on AIGOV_VAR_DIR"
    for workload in pod_workloads():
        (pod,) = pod_template_specs(workload)
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in pod["containers"]:
            writable = {
                mount["mountPath"]: volumes[mount["name"]]
                for mount in container["volumeMounts"]
                if not mount.get("readOnly")
            }
            assert set(writable) == {"/tmp", var_dir}, f"{object_id(workload)} writes to {sorted(writable)}"
            assert all("emptyDir" in volume for volume in writable.values()), object_id(workload)


def test_labels_are_consistent_and_every_selector_selects_its_own_pods() -> None:
    for obj in base_objects() + by_kind(overlay_objects(), "Secret") + by_kind(overlay_objects(), "Namespace"):
        labels = obj["metadata"].get("labels", {})
        assert labels.get(NAME_LABEL) == APP, object_id(obj)
        assert labels.get(COMPONENT_LABEL), object_id(obj)
    for workload in pod_workloads():
        template_labels = workload["spec"]["template"]["metadata"]["labels"]
        assert template_labels[NAME_LABEL] == APP
        assert template_labels[COMPONENT_LABEL] == workload["metadata"]["labels"][COMPONENT_LABEL]
    for deployment in deployments().values():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selects(selector, deployment["spec"]["template"]["metadata"]["labels"])
        others = [other for other in pod_workloads() if other is not deployment]
        assert not any(selects(selector, other["spec"]["template"]["metadata"]["labels"]) for other in others), (
            object_id(deployment)
        )


# -- Services and PodDisruptionBudgets ----------------------------------------------------------------------


def pods_selected(selector: dict[str, str]) -> list[str]:
    return [
        object_id(workload)
        for workload in pod_workloads()
        if selects(selector, workload["spec"]["template"]["metadata"]["labels"])
    ]


def test_each_service_object_routes_its_port_to_its_deployment_only() -> None:
    services = by_kind(base_objects(), "Service")
    assert len(services) == len(SERVICES)
    for service, deployment in deployments().items():
        service_object = named(base_objects(), "Service", f"aigov-{service}")
        assert pods_selected(service_object["spec"]["selector"]) == [object_id(deployment)]
        (container,) = containers(deployment)
        (port,) = service_object["spec"]["ports"]
        assert port["port"] == PORTS[service]
        assert port["targetPort"] in {entry["name"] for entry in container["ports"]}


def test_each_deployment_has_a_disruption_budget_keeping_one_pod() -> None:
    budgets = by_kind(base_objects(), "PodDisruptionBudget")
    assert len(budgets) == len(SERVICES)
    for service, deployment in deployments().items():
        budget = named(base_objects(), "PodDisruptionBudget", f"aigov-{service}")
        assert budget["spec"]["minAvailable"] == 1
        assert budget["spec"]["minAvailable"] < deployment["spec"]["replicas"], (
            "a budget as large as the replicas blocks every drain"
        )
        assert pods_selected(budget["spec"]["selector"]["matchLabels"]) == [object_id(deployment)]


# -- settings and secrets -----------------------------------------------------------------------------------


def test_configmap_holds_only_known_non_secret_settings() -> None:
    unknown = set(config()) - settings_variables()
    assert not unknown, f"not settings of shared.settings.Settings: {sorted(unknown)}"
    assert not set(config()) & SECRET_SETTINGS, "secrets belong in a Secret"
    assert config()["AIGOV_HOST"] == "0.0.0.0", "a service bound to 127.0.0.1 is unreachable in a pod"
    assert all(isinstance(value, str) for value in config().values()), "ConfigMap values must be strings"


def test_secrets_come_from_secret_key_refs_that_the_example_secrets_provide() -> None:
    assert not by_kind(base_objects(), "Secret"), "the base must not carry Secrets"
    provided = {
        (secret["metadata"]["name"], key)
        for secret in by_kind(overlay_objects(), "Secret")
        for key in {**secret.get("stringData", {}), **secret.get("data", {})}
    }
    for workload in pod_workloads():
        (pod,) = pod_template_specs(workload)
        for container in pod["containers"]:
            env = env_of(container)
            assert all(ref["configMapRef"]["name"] == "aigov-config" for ref in container["envFrom"])
            assert "AIGOV_DATABASE_URL" in env, object_id(workload)
            for name in SECRET_SETTINGS & set(env):
                assert "value" not in env[name], f"{object_id(workload)}: {name} written in the manifest"
                ref = env[name]["valueFrom"]["secretKeyRef"]
                assert (ref["name"], ref["key"]) in provided, f"{object_id(workload)}: {ref} is in no example Secret"
        for volume in pod["volumes"]:
            if "secret" in volume:
                mounted_file = env_of(pod["containers"][0])["AIGOV_CHECKPOINT_KEY_PATH"]["value"]
                assert (volume["secret"]["secretName"], Path(mounted_file).name) in provided
    for deployment in deployments().values():
        (container,) = containers(deployment)
        assert "AIGOV_JWT_SECRET" not in env_of(container), "production refuses development tokens: no key for them"


def test_production_config_names_an_identity_provider_the_settings_accept() -> None:
    """AIGOV_ENV=production refuses to start without a JWKS (or public key), issuer and audience."""
    (config,) = [document for document in documents(BASE / "configmap.yaml") if document["kind"] == "ConfigMap"]
    data = config["data"]
    assert data["AIGOV_ENV"] == "production"
    settings = Settings(
        **{
            name.removeprefix("AIGOV_").lower(): value
            for name, value in data.items()
            if name.removeprefix("AIGOV_").lower() in Settings.model_fields
        }
    )
    assert settings.env == "production" and settings.jwks_url and settings.jwt_issuer and settings.jwt_audience


def test_reporting_replicas_share_one_checkpoint_signing_key_from_a_secret() -> None:
    (container,) = containers(deployments()["reporting"])
    key_path = Path(env_of(container)["AIGOV_CHECKPOINT_KEY_PATH"]["value"])
    (pod,) = pod_template_specs(deployments()["reporting"])
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = [mount for mount in container["volumeMounts"] if Path(mount["mountPath"]) == key_path.parent]
    assert len(mounts) == 1 and mounts[0]["readOnly"] is True
    assert "secret" in volumes[mounts[0]["name"]]


def test_example_secrets_are_obviously_fake() -> None:
    secrets = by_kind(overlay_objects(), "Secret")
    assert secrets
    for secret in secrets:
        assert "data" not in secret, "base64 data would hide what the example values are"
        for key, value in secret["stringData"].items():
            assert "FAKE" in value and "CHANGE-ME" in value, f"{secret['metadata']['name']}.{key} does not look fake"


def test_migration_job_runs_aigov_migrate_with_the_services_image_and_database() -> None:
    (job,) = by_kind(base_objects(), "Job")
    (container,) = containers(job)
    assert container["command"] == ["aigov", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in {"Never", "OnFailure"}
    service_images = {
        container["image"] for deployment in deployments().values() for container in containers(deployment)
    }
    assert service_images == {container["image"]}
    assert (
        env_of(container)["AIGOV_DATABASE_URL"]["valueFrom"]
        == env_of(containers(deployments()["registry"])[0])["AIGOV_DATABASE_URL"]["valueFrom"]
    )


# -- NetworkPolicies ----------------------------------------------------------------------------------------


def policies_for(objects: list[dict[str, Any]], labels: dict[str, str], policy_type: str) -> list[dict[str, Any]]:
    return [
        policy
        for policy in by_kind(objects, "NetworkPolicy")
        if policy_type in policy["spec"]["policyTypes"]
        and selects(policy["spec"]["podSelector"].get("matchLabels", {}), labels)
    ]


def test_every_aigov_pod_starts_from_deny_all_in_and_out() -> None:
    for workload in pod_workloads():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        deny = [
            policy
            for policy in policies_for(base_objects(), labels, "Ingress")
            if "Egress" in policy["spec"]["policyTypes"]
            and not policy["spec"].get("ingress")
            and not policy["spec"].get("egress")
        ]
        assert deny, f"{object_id(workload)} is not covered by a deny-all policy"


def ports_of(rule: dict[str, Any]) -> set[tuple[int, str]]:
    return {(port["port"], port.get("protocol", "TCP")) for port in rule.get("ports", [])}


@pytest.mark.parametrize("directory", [BASE, OVERLAY], ids=["base", "example-overlay"])
def test_pods_may_only_reach_dns_and_postgresql(directory: Path) -> None:
    objects = rendered(directory)
    for workload in pod_workloads():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        rules = [
            rule for policy in policies_for(objects, labels, "Egress") for rule in policy["spec"].get("egress", [])
        ]
        assert rules, f"{object_id(workload)} can reach nothing, not even its database"
        for rule in rules:
            ports = ports_of(rule)
            assert ports, f"{object_id(workload)}: an egress rule without ports opens every port"
            assert ports in ({(53, "UDP"), (53, "TCP")}, {(5432, "TCP")}), f"{object_id(workload)}: egress to {ports}"
            if ports == {(53, "UDP"), (53, "TCP")}:
                (peer,) = rule["to"]
                assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
                assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
        assert {frozenset(ports_of(rule)) for rule in rules} == {
            frozenset({(53, "UDP"), (53, "TCP")}),
            frozenset({(5432, "TCP")}),
        }
    if directory == OVERLAY:
        postgres_rules = [
            rule
            for rule in named(objects, "NetworkPolicy", "aigov-egress")["spec"]["egress"]
            if ports_of(rule) == {(5432, "TCP")}
        ]
        assert all(rule.get("to") and all("ipBlock" in peer for peer in rule["to"]) for rule in postgres_rules), (
            "the overlay narrows PostgreSQL to its address"
        )


def test_each_service_admits_only_the_ingress_controller_and_prometheus_on_its_port() -> None:
    ingress_namespace = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {NAME_LABEL: "prometheus"}},
    }
    for service, deployment in deployments().items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        rules = [
            rule
            for policy in policies_for(base_objects(), labels, "Ingress")
            for rule in policy["spec"].get("ingress", [])
        ]
        assert len(rules) == 1, f"{service}: {rules}"
        (rule,) = rules
        assert ports_of(rule) == {(PORTS[service], "TCP")}
        assert rule["from"] == [ingress_namespace, prometheus], f"{service} admits {rule['from']}"
    (job,) = by_kind(base_objects(), "Job")
    job_labels = job["spec"]["template"]["metadata"]["labels"]
    assert not [
        rule
        for policy in policies_for(base_objects(), job_labels, "Ingress")
        for rule in policy["spec"].get("ingress", [])
    ]


# -- docker compose and Prometheus ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    (document,) = documents(COMPOSE_FILE)
    return document


def test_compose_runs_postgresql_15_with_a_healthcheck_and_a_volume(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert re.fullmatch(r"postgres:15(\.\d+)?(-[a-z0-9]+)?", postgres["image"]), postgres["image"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    (volume,) = postgres["volumes"]
    name, target = volume.split(":")[:2]
    assert target == "/var/lib/postgresql/data" and name in compose["volumes"]


def test_compose_services_start_only_after_the_migration_job_succeeded(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["aigov", "migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"
    for service in SERVICES:
        depends_on = compose["services"][service]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", service


def test_compose_services_listen_on_all_interfaces_publish_their_ports_and_report_health(
    compose: dict[str, Any],
) -> None:
    for service in SERVICES:
        definition = compose["services"][service]
        environment = definition["environment"]
        assert environment["AIGOV_HOST"] == "0.0.0.0"
        assert environment["AIGOV_SERVICE"] == service and definition["command"] == ["aigov", "serve", service]
        assert (
            environment["AIGOV_DATABASE_URL"].startswith("postgresql://")
            and "@postgres:5432/" in environment["AIGOV_DATABASE_URL"]
        )
        assert any(str(port).endswith(f":{PORTS[service]}:{PORTS[service]}") for port in definition["ports"]), service
        test = definition["healthcheck"]["test"]
        assert test[0] == "CMD" and "/usr/local/bin/aigov-healthcheck" in test, service
        assert definition["image"] == compose["services"]["migrate"]["image"], "one image for the job and the services"


def test_compose_environment_names_are_settings_the_services_read(compose: dict[str, Any]) -> None:
    known = settings_variables() | IMAGE_ONLY_VARIABLES
    for name in ("migrate", *SERVICES):
        unknown = {key for key in compose["services"][name]["environment"] if key not in known}
        assert not unknown, f"{name}: {sorted(unknown)}"


def test_compose_builds_the_deploy_dockerfile_with_the_repository_as_context(compose: dict[str, Any]) -> None:
    for name in ("migrate", *SERVICES):
        build = compose["services"][name]["build"]
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == ROOT and (context / build["dockerfile"]).resolve() == DOCKERFILE


def test_reporting_keeps_its_checkpoint_key_on_a_named_volume(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["reporting"]["volumes"]
    var_dir = compose["services"]["reporting"]["environment"]["AIGOV_VAR_DIR"]
    assert any(volume.split(":")[1] == var_dir and volume.split(":")[0] in compose["volumes"] for volume in volumes)


def test_prometheus_scrapes_the_metrics_of_the_three_compose_services(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    mounted = {
        (COMPOSE_FILE.parent / volume.split(":")[0]).resolve(): volume.split(":")[1]
        for volume in prometheus["volumes"]
        if volume.startswith(".")
    }
    assert mounted.get(PROMETHEUS_FILE.resolve()) == "/etc/prometheus/prometheus.yml"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    (config,) = documents(PROMETHEUS_FILE)
    targets = set()
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        targets |= {target for static in job["static_configs"] for target in static["targets"]}
    assert targets == {f"{service}:{PORTS[service]}" for service in SERVICES}
    assert all(target.split(":")[0] in compose["services"] for target in targets)


def test_docker_compose_config_accepts_the_compose_file() -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True, timeout=60).returncode != 0
    ):
        pytest.skip("no working `docker compose` on this machine; the compose file is checked structurally above")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


# -- the Dockerfile -----------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[str]:
    """Instructions with continuation lines joined, comments and blank lines dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        instructions.append(" ".join((current + stripped).split()))
        current = ""
    return instructions


def dockerfile_stages() -> list[list[str]]:
    stages: list[list[str]] = []
    for instruction in dockerfile_instructions():
        if instruction.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regular expression."""
    out, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            out, index = out + pattern[index : end + 1], end + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(out)


def dockerignore_excludes(relative: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: count + 1]) for count in range(len(parts))]
    excluded = False
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated, pattern = line.startswith("!"), line.lstrip("!").strip("/")
        if any(glob_regex(pattern).fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def test_dockerfile_builds_on_python_311_slim_and_runs_as_a_numeric_non_root_user() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 1
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile_instructions()
    assert all(stage[0].split()[1] in {"${PYTHON_IMAGE}", "python:3.11-slim"} for stage in stages)
    users = [instruction.split()[1] for instruction in stages[-1] if instruction.startswith("USER ")]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]), f"final USER {users}"
    assert any(
        "pip install ." in instruction for stage in stages for instruction in stage if instruction.startswith("RUN ")
    )


def test_dockerfile_exposes_the_ports_checks_healthz_with_python_and_serves_aigov_service() -> None:
    final = dockerfile_stages()[-1]
    exposed = {
        int(port) for instruction in final if instruction.startswith("EXPOSE ") for port in instruction.split()[1:]
    }
    assert exposed == set(PORTS.values())
    (healthcheck,) = [instruction for instruction in final if instruction.startswith("HEALTHCHECK ")]
    assert '"python"' in healthcheck and "/healthz" in healthcheck and "aigov-healthcheck" in healthcheck
    (command,) = [instruction for instruction in final if instruction.startswith("CMD ")]
    assert 'aigov serve \\"$AIGOV_SERVICE\\"' in command and "exec " in command
    assert "ARG AIGOV_SERVICE=registry" in final and any(
        "AIGOV_SERVICE=${AIGOV_SERVICE}" in instruction for instruction in final
    )
    assert any("AIGOV_HOST=0.0.0.0" in instruction for instruction in final if instruction.startswith("ENV "))


def test_dockerfile_copies_every_package_and_the_context_filter_lets_exactly_those_through() -> None:
    sources = []
    for instruction in dockerfile_instructions():
        if instruction.startswith("COPY ") and "--from=" not in instruction:
            words = [word for word in instruction.split()[1:] if not word.startswith("--")]
            sources += words[:-1]
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the build context"
        files = (
            [ROOT / source]
            if (ROOT / source).is_file()
            else [path for path in (ROOT / source).rglob("*") if path.is_file() and "__pycache__" not in path.parts]
        )
        assert files, source
        excluded = [path for path in files if dockerignore_excludes(path.relative_to(ROOT).as_posix())]
        assert not excluded, f"the context filter drops files the image needs: {excluded[:5]}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= set(sources), f"packages pip install . needs but the image never gets: {packages - set(sources)}"
    assert pyproject["project"]["readme"] in sources
    for local in (
        ".venv/bin/python",
        "var/aigov.sqlite3",
        ".git/HEAD",
        "tests/conftest.py",
        "shared/__pycache__/cli.cpython-311.pyc",
    ):
        assert dockerignore_excludes(local), f"{local} would be sent to the image builder"


# -- the health check script --------------------------------------------------------------------------------


@pytest.fixture
def fake_service() -> Iterator[int]:
    """An HTTP server answering 200 on /healthz and 503 on /readyz, on a free loopback port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def run_healthcheck(service: str, port: int, *args: str) -> int:
    env = {
        **os.environ,
        "AIGOV_SERVICE": service,
        f"AIGOV_{service.upper()}_PORT": str(port),
        "AIGOV_HEALTHCHECK_TIMEOUT": "5",
    }
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK_SCRIPT), *args], env=env, capture_output=True, timeout=60
    ).returncode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthcheck_script_passes_only_on_a_2xx_answer_from_its_services_port(fake_service: int) -> None:
    assert run_healthcheck("risk", fake_service) == 0, "GET /healthz answered 200"
    assert run_healthcheck("risk", fake_service, "/healthz") == 0
    assert run_healthcheck("risk", fake_service, "/readyz") == 1, "GET /readyz answered 503"
    assert run_healthcheck("reporting", free_port()) == 1, "nothing listens there"
    assert run_healthcheck("nonsense", fake_service) != 0, "an unknown service is an error"
