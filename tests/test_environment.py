"""Set-up files agree: pyproject ranges, the lock file and environment.yml."""

from __future__ import annotations

import re
import tomllib

import yaml
from packaging.requirements import Requirement


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if m:
            out[_name(m.group(1))] = m.group(2)
    return out


def _requirements(project) -> dict[str, Requirement]:
    """Every third-party requirement pyproject names (core and all extras), by name."""
    reqs = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        reqs += extra
    out = {}
    for text in reqs:
        req = Requirement(text)
        if _name(req.name) != _name(project["name"]):  # skip "vip2analysis[notebooks]"
            out[_name(req.name)] = req
    return out


def test_lock_environment_and_pyproject_agree(repo_root):
    lock = _pins((repo_root / "requirements.lock").read_text().splitlines())
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    named = _requirements(project)
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = _pins(pip_section)

    missing_from_lock = sorted(n for n in named if n not in lock)
    assert not missing_from_lock, (
        f"pyproject names packages absent from the lock: {missing_from_lock}"
    )
    outside = {
        n: (str(r.specifier), lock[n]) for n, r in named.items() if lock[n] not in r.specifier
    }
    assert not outside, f"requirements.lock versions outside the pyproject ranges: {outside}"
    env_wrong = {n: (conda.get(n), lock[n]) for n in named if conda.get(n) != lock[n]}
    assert not env_wrong, (
        f"environment.yml must pin every pyproject package at the lock: {env_wrong}"
    )
    stray = {n: (v, lock.get(n)) for n, v in conda.items() if lock.get(n) != v}
    assert not stray, f"environment.yml pins differ from requirements.lock: {stray}"
    assert any(d.startswith("python=3.11") for d in env["dependencies"] if isinstance(d, str))


def test_makefile_targets_install_from_the_lock(repo_root):
    """`make all` installs the extras it needs, `make test` adds the Dask extra, both
    constrained to the lock; `make lock` resolves every extra."""
    make = (repo_root / "Makefile").read_text()
    assert '-c requirements.lock -e ".[build,lab,test]"' in make
    assert '-c requirements.lock -e ".[dask]"' in make
    assert re.search(r"^test: \$\(DASK_STAMP\)", make, re.M), "make test installs the Dask extra"
    assert re.search(r"^all: (?!.*DASK)", make, re.M), "make all does not need Dask"
    assert '".[build,lab,test,dask]"' in make, "make lock must resolve every extra"
    ci = (repo_root / ".ci" / "run").read_text()
    assert "make test" in ci
