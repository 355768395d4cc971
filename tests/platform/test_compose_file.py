"""docker-compose.yml is a valid Compose file whose services start in the right order.

The services themselves are started natively in test_compose_stack.py (no container engine on CI).
"""

import json
import shutil
import subprocess

import yaml

from tests.conftest import DATA
from tests.platform.compose_native import COMPOSE_FILE, ENV_EXAMPLE, load_compose


def test_services_start_only_after_a_one_shot_migrate():
    services = load_compose()["services"]
    assert services["migrate"]["command"].startswith("python manage.py migrate")
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert "migrate" not in services[name]["command"]
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert "healthcheck" in services[name]
    assert services["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}
    # collected static files are not hidden by the private-data volume
    app = services["web"]
    assert all(not volume.endswith(":/app/staticfiles") for volume in app["volumes"])
    assert not app["environment"]["STATIC_ROOT"].startswith(app["environment"]["VAR_DIR"])


def test_compose_file_matches_the_compose_specification(tmp_path):
    import jsonschema

    schema = json.loads((DATA / "compose_spec.json").read_text(encoding="utf-8"))
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator(schema).validate(document)
    # the reference implementation, where installed (CI installs Debian's docker-compose)
    compose = shutil.which("docker-compose")
    if compose:
        shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
        shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
        result = subprocess.run([compose, "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
