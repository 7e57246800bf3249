#!/usr/bin/env bash
# make publish-check: what Galaxy's importer says about the built collection. Any warning or error fails
# (Galaxy shows them on the collection's page). ansible-doc and ansible-lint must be on PATH (the
# publish virtualenv's), or the importer skips those checks and says so, which counts as a warning here.
#
# Galaxy requires galaxy.yml's `repository`, which galaxy.yml leaves out until the collection has a
# public home. GALAXY_REPOSITORY (the URL to publish with) is put in a copy for this check; without it
# the check uses the local clone's file:// URL and says that the real one is still missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
copy="$work/mbs.connectwise"
mkdir -p "$copy"
cd "$root"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$copy/$(dirname "$f")"
  cp -p "$f" "$copy/$f"
done
repository="$(sed -n 's/^repository: *//p' galaxy.yml)"
if [ -z "$repository" ]; then
  repository="${GALAXY_REPOSITORY:-file://$root}"
  printf 'repository: %s\n' "$repository" >>"$copy/galaxy.yml"
  [ -n "${GALAXY_REPOSITORY:-}" ] || echo "NOTE: galaxy.yml has no repository, which Galaxy requires: checked with $repository;" \
    "add the public URL to galaxy.yml (or GALAXY_REPOSITORY=...) before publishing" >&2
fi
ansible-galaxy collection build --output-path "$work" "$copy" >/dev/null
cd "$work"
python -m galaxy_importer.main ./*.tar.gz >importer.log 2>&1 || { cat importer.log; exit 1; }
if grep -E '^(WARNING|ERROR)' importer.log; then
  echo "galaxy-importer: $(grep -cE '^(WARNING|ERROR)' importer.log) warning(s) or error(s)" >&2
  exit 1
fi
grep -E 'Importer processing completed successfully' importer.log
echo "galaxy-importer: 0 warnings"
