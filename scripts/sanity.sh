#!/usr/bin/env bash
# ansible-test wants the collection at ansible_collections/mbs/connectwise: copy the tracked
# (and untracked, not ignored) files into that layout in a temporary folder and test there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/mbs/connectwise"
mkdir -p "$dest"
cd "$root"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$dest/$(dirname "$f")"
  cp -p "$f" "$dest/$f"
done
# ansible-test bootstraps pip in its sanity virtualenvs from a host we cannot reach;
# give it the stand-in (scripts/get_pip_standin.py explains).
pip_version="$(python -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; print(g(type("P", (), {"version": ""})())["pip"])')"
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cp "$root/scripts/get_pip_standin.py" "$cache"

cd "$dest"
git init -q . && git add -A >/dev/null
ansible-test sanity --color no --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --venv --requirements "$@"
