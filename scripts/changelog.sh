#!/usr/bin/env bash
# make changelog: the release of VERSION (galaxy.yml's) in changelogs/changelog.yaml and CHANGELOG.rst,
# rebuilt from every fragment in changelogs/fragments/ (kept until the release is published), so it can
# be run again whenever fragments are added. Earlier releases in changelog.yaml are left as they are; the
# release keeps its date once it has one (RELEASE_DATE sets another).
set -euo pipefail
version="$1"
cd "$(dirname "$0")/.."
antsibull-changelog lint
date="$(python - "$version" <<'PY'
import sys, yaml
with open("changelogs/changelog.yaml") as handle:
    changes = yaml.safe_load(handle) or {}
releases = changes.get("releases") or {}
release = releases.pop(sys.argv[1], None) or {}
changes["releases"] = releases
changes.setdefault("ancestor", None)
with open("changelogs/changelog.yaml", "w") as handle:
    yaml.safe_dump(changes, handle, sort_keys=True)
print(release.get("release_date", ""))
PY
)"
date="${RELEASE_DATE:-${date:-$(date -u +%F)}}"
antsibull-changelog release --version "$version" --date "$date" --reload-plugins
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
echo "==> CHANGELOG.rst: release $version of $date from $(find changelogs/fragments -name "*.y*ml" | wc -l) fragments"
