#!/usr/bin/env bash
# Install the system packages the test suite needs: Debian's Chromium (driven by
# Playwright through executablePath) and CJK fonts so screenshots show Chinese.
# Runs apt-get only when something is missing and we are root; otherwise says
# loudly what is missing, and the browser tests skip with that reason.
set -u
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 \
  || missing+=(fonts-noto-cjk)
command -v git >/dev/null 2>&1 || missing+=(git)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo="sudo -n"  # e.g. GitHub's runners: passwordless sudo
fi
if { [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; } && command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || echo "install-test-deps: WARNING: apt-get update failed" >&2
  # One package at a time: a name this distribution lacks (Ubuntu has no `chromium`
  # deb; GitHub's runners ship /usr/bin/chromium anyway) must not block the others.
  for package in "${missing[@]}"; do
    $sudo env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "$package" >/dev/null \
      || echo "install-test-deps: WARNING: apt-get could not install $package;" \
              "tests that need it will be SKIPPED" >&2
  done
else
  echo "install-test-deps: WARNING: missing ${missing[*]} and cannot apt-get (not root);" \
       "browser tests will be SKIPPED. Install them: sudo apt-get install ${missing[*]}" >&2
fi
exit 0
