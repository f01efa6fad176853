"""Set-up files agree: pyproject pins, the lock file and environment.yml."""

from __future__ import annotations

import re
import tomllib

import yaml


def _pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def test_lock_environment_and_pyproject_agree(repo_root):
    lock = _pins((repo_root / "requirements.lock").read_text().splitlines())
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    direct = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = _pins(pip_section)
    assert conda == direct, "environment.yml and pyproject.toml name different packages/versions"
    mismatched = {n: (v, lock.get(n)) for n, v in direct.items() if lock.get(n) != v}
    assert not mismatched, f"pinned versions differ from requirements.lock: {mismatched}"
    assert any(d.startswith("python=3.11") for d in env["dependencies"] if isinstance(d, str))


def test_makefile_targets_install_from_the_lock(repo_root):
    make = (repo_root / "Makefile").read_text()
    assert "-r requirements.lock" in make
    ci = (repo_root / ".ci" / "run").read_text()
    assert "make test" in ci
