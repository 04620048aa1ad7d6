"""The deploy files as their own tools read them: hadolint, docker-compose, pip."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import yaml

from common.settings import from_env
from ingest.providers import build_providers

ROOT = Path(__file__).parents[2]
REVOTP_SERVICES = ("ingest", "matcher", "notifier", "callbacks")


def run(*command: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    return done.returncode, done.stdout + done.stderr


def provider_variables() -> set[str]:
    """Every REVOTP_<PROVIDER>_* variable an adapter reads: its credential, the options every
    adapter has, and those its module asks for."""
    variables = set()
    for provider in build_providers(from_env({})).values():
        source = inspect.getsource(sys.modules[type(provider).__module__])
        options = {type(provider).credential_option, "allowed_ips", "basic_auth", "number"}
        options |= set(re.findall(r'option\("([a-z_0-9]+)"', source))
        variables |= {provider.variable(option) for option in options}
    return variables


def compose_config(**env: str) -> tuple[int, str]:
    return run("docker-compose", "config", env={"PATH": os.environ["PATH"], **env})


def test_hadolint_finds_the_dockerfile_clean():
    assert run(str(Path(sys.executable).with_name("hadolint")), "Dockerfile") == (0, "")


def test_the_image_holds_every_package_and_installs_pinned_hashed_dependencies():
    dockerfile = (ROOT / "Dockerfile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    for top_level in {package.split(".")[0] for package in packages}:
        assert f"COPY {top_level} ./{top_level}" in dockerfile, f"the image lacks {top_level}"
    assert "pip install --require-hashes --no-deps -r requirements/runtime.txt" in dockerfile
    assert 'HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["revotp", "healthcheck"]' in (
        dockerfile
    ), "an exec-form probe that needs no variable only compose sets"
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[1] == "*", "everything is ignored but what the image copies"


def test_the_lock_files_pin_every_dependency_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for lock, declared in (
        ("runtime.txt", project["dependencies"]),
        ("test.txt", [*project["dependencies"], *project["optional-dependencies"]["test"]]),
    ):
        text = (ROOT / "requirements" / lock).read_text()
        pinned = {
            name.lower().replace("_", "-") for name in re.findall(r"^([A-Za-z0-9_.-]+)==", text, flags=re.MULTILINE)
        }
        wanted = {re.split(r"[<>=\[ ;]", requirement)[0].lower().replace("_", "-") for requirement in declared}
        assert wanted - {"revotp"} <= pinned, (lock, wanted - pinned)
        assert text.count("==") == len(re.findall(r"==[^ ]+ \\\n    --hash=sha256:", text)), (
            f"{lock}: a pin without hash"
        )


def test_compose_refuses_to_start_without_a_secret_key():
    code, output = compose_config()
    assert code != 0
    assert "set REVOTP_SECRET_KEY" in output


def test_compose_keeps_the_brokers_internal_pins_images_and_passes_every_provider_variable():
    code, output = compose_config(REVOTP_SECRET_KEY="a-secret-of-at-least-16-bytes")
    assert code == 0, output
    config: dict[str, Any] = yaml.safe_load(output)
    services = config["services"]
    assert config["networks"]["backend"]["internal"] is True
    for broker in ("rabbitmq", "redis"):
        assert "ports" not in services[broker], f"{broker} must not be published"
        assert set(services[broker]["networks"]) == {"backend"}
    for name, service in services.items():
        if "image" in service and "build" not in service:
            assert re.search(r":\d+\.\d+\.\d+", service["image"]), f"{name}: pin the image to a full version"
    for name in REVOTP_SERVICES:
        environment = services[name]["environment"]
        assert provider_variables() - set(environment) == set(), name
        assert "REVOTP_HEALTH_PORT" not in environment


def test_the_package_installs_its_data_without_setuptools_warnings(tmp_path: Path):
    # Built from a copy: setuptools leaves build/ and *.egg-info beside the sources it builds.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "var"))
    code, output = run(sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-v", "-w", str(tmp_path))
    assert code == 0, output
    assert "_Warning" not in output, output
    (wheel,) = tmp_path.glob("revotp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for data in (
        "common/lua/challenges.lua",
        "matcher/lua/parts.lua",
        "ingest/lua/admission.lua",
        "notifier/static/verify.js",
    ):
        assert data in names
