#!/usr/bin/env bash
# Proof that a team can adopt Zhiku: clone this repository's committed HEAD into a
# fresh temporary folder (no ../shared beside it), replace kb/ with a small generated
# knowledge base of another domain (a gym's front desk), commit it, and run
# `make validate build test-fast` there. Reuses the venv at $VENV (default: this
# repository's .venv) instead of installing; PYTHONPATH points at the clone so the
# clone's own code is what runs. ADOPT_TESTS=test runs the whole suite instead;
# KEEP=1 keeps the folder.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(cd "${VENV:-$repo/.venv}" && pwd)"
python="$venv/bin/python"
tests="${ADOPT_TESTS:-test-fast}"
[ -x "$python" ] || { echo "adopt-check: no Python in $venv; run make install first" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/zhiku-adopt.XXXXXX")"
if [ "${KEEP:-}" = 1 ]; then
  echo "adopt-check: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
clone="$work/team"
started=$SECONDS
git clone -q "$repo" "$clone"
if [ -e "$work/shared" ]; then
  echo "adopt-check: $work/shared exists; the check needs a folder without it" >&2
  exit 2
fi
cd "$clone"
echo "adopt-check: cloned $(git rev-parse --short HEAD) into $clone (no ../shared beside it)"
"$python" scripts/adoption_kb.py kb
git add -A kb
git -c user.name="Adoption check" -c user.email=adopt@zhiku.invalid \
  commit -q -m "Our own knowledge base: a gym's front desk"
unset ZHIKU_SHARED_DIR
export PYTHONPATH="$clone"
# -o: the venv is already installed; never reinstall it from the clone.
make --no-print-directory -o "$venv/bin/.installed" VENV="$venv" validate build "$tests"
echo "adopt-check: OK in $((SECONDS - started)) s: make validate, make build and make $tests" \
     "passed in a clone with its own kb/ and no ../shared"
