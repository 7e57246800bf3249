#!/usr/bin/env bash
# make molecule: `molecule test` for every scenario of every role of the collection
# (roles/<role>/molecule/<scenario>/molecule.yml, and extensions/molecule/<scenario>/ if any). Scenarios start their own sandbox; no Docker.
# Exit status: non-zero when any scenario fails (all scenarios run anyway).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
[ -L .collections/ansible_collections/mbs/connectwise ] || {
  mkdir -p .collections/ansible_collections/mbs && ln -s ../../.. .collections/ansible_collections/mbs/connectwise; }

status=0
found=0
for scenario_file in roles/*/molecule/*/molecule.yml; do
  [ -f "$scenario_file" ] || continue
  found=$((found + 1))
  scenario_dir="$(dirname "$scenario_file")"
  role_dir="$(dirname "$(dirname "$scenario_dir")")"
  scenario="$(basename "$scenario_dir")"
  echo "==> molecule test: role $(basename "$role_dir"), scenario $scenario"
  if ! (cd "$role_dir" && molecule test --scenario-name "$scenario"); then
    echo "==> FAILED: role $(basename "$role_dir"), scenario $scenario" >&2
    status=1
  fi
done
# Collection-level scenarios (molecule's extensions/molecule/<scenario>), run from the root.
for scenario_file in extensions/molecule/*/molecule.yml; do
  [ -f "$scenario_file" ] || continue
  found=$((found + 1))
  scenario="$(basename "$(dirname "$scenario_file")")"
  echo "==> molecule test: collection scenario $scenario"
  if ! molecule test --scenario-name "$scenario"; then
    echo "==> FAILED: collection scenario $scenario" >&2
    status=1
  fi
done
if [ "$found" -eq 0 ]; then
  echo "no molecule scenario found under roles/*/molecule/" >&2
  exit 1
fi
exit "$status"
