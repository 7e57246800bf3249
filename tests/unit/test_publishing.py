"""What a release needs to be publishable: one version everywhere, a changelog that is up to date with its
fragments and written for users, no placeholder URLs, the supported ansible-core range.

The tools themselves (galaxy-importer, antsibull-docs, antsibull-changelog, ansible-builder) run in
`make publish-check`, from their own virtualenv; these checks need nothing but the repository.
"""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FRAGMENTS = os.path.join(ROOT, "changelogs", "fragments")
# Development history that means nothing to someone installing the release.
DEVELOPMENT_HISTORY = re.compile(r"\bissue \d+|\bpoint \d+|\(was \d|\bwas \d[\d,.]* |\bpreviously\b|\bno longer\b",
                                 re.IGNORECASE)


def load(*path):
    with open(os.path.join(ROOT, *path)) as handle:
        return yaml.safe_load(handle)


def galaxy_version():
    return load("galaxy.yml")["version"]


def documented_versions():
    """``(file, version_added)`` of every plugin, filter and role entry point."""
    found = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "plugins")):
        for name in files:
            path = os.path.join(folder, name)
            with open(path) as handle:
                for match in re.finditer(r"^\s*version_added:\s*['\"]?([\d.]+)", handle.read(), re.MULTILINE):
                    found.append((os.path.relpath(path, ROOT), match.group(1)))
    for role in os.listdir(os.path.join(ROOT, "roles")):
        for entry, spec in load("roles", role, "meta", "argument_specs.yml")["argument_specs"].items():
            found.append(("roles/%s %s" % (role, entry), str(spec.get("version_added"))))
    return found


def test_version_added_is_the_release_everywhere():
    found = documented_versions()
    assert len(found) >= 25, found                     # modules, filters, the inventory plugin, both roles
    assert [f for f in found if f[1] != galaxy_version()] == []


def test_the_changelog_has_the_release_of_every_fragment():
    """`make changelog` rebuilds the release from the fragments: run it after adding one."""
    release = load("changelogs", "changelog.yaml")["releases"][galaxy_version()]
    fragments = sorted(f for f in os.listdir(FRAGMENTS) if f.endswith((".yml", ".yaml")))
    assert sorted(release["fragments"]) == fragments, "run make changelog"
    assert release["changes"]["release_summary"].startswith("First release of ``mbs.connectwise``")
    with open(os.path.join(ROOT, "CHANGELOG.rst")) as handle:
        rendered = handle.read()
    assert "v%s\n" % galaxy_version() in rendered and "Release Summary" in rendered
    for entry in release["changes"].get("major_changes", []):
        assert " ".join(entry.split())[:60] in " ".join(rendered.split()), entry


def test_the_changelog_speaks_to_users_not_about_development():
    written = []
    for name in sorted(os.listdir(FRAGMENTS)):
        for section, entries in (load("changelogs", "fragments", name) or {}).items():
            for entry in [entries] if isinstance(entries, str) else entries:
                if section != "trivial" and DEVELOPMENT_HISTORY.search(entry):
                    written.append((name, DEVELOPMENT_HISTORY.search(entry).group(0), entry[:80]))
    assert written == []


def test_no_placeholder_urls():
    galaxy = load("galaxy.yml")
    for key in ("repository", "documentation", "homepage", "issues"):
        assert "example" not in str(galaxy.get(key, "")), key
    for path in ("galaxy.yml", "README.md", "awx/README.md", "roles/setup/README.md", "roles/billing/README.md"):
        with open(os.path.join(ROOT, path)) as handle:
            assert ".invalid" not in handle.read(), path


def test_the_supported_ansible_core_range():
    with open(os.path.join(ROOT, "requirements.txt")) as handle:
        core = [line.strip() for line in handle if line.startswith("ansible-core")]
    assert core == ["ansible-core>=2.19"]
    assert load("meta", "runtime.yml")["requires_ansible"] == ">=2.19.0"
    ee = load("awx", "execution-environment.yml")
    # ansible-core 2.20 and later need Python 3.12 on the controller: CentOS Stream 10's system Python.
    assert ee["dependencies"]["ansible_core"]["package_pip"] == "ansible-core>=2.21,<2.22"
    assert ee["images"]["base_image"]["name"] == "quay.io/centos/centos:stream10"
    with open(os.path.join(ROOT, "README.md")) as handle:
        assert "<2.20" not in handle.read()
