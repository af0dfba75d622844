#!/usr/bin/env bash
# The system packages the tests need, from Debian's archive: make,
# python3-venv (the emulator's and cfn-lint's virtual environment), Node.js
# with npm and Debian's Chromium (the browser tests drive it; no browser is
# downloaded at test time). `make test` and `.ci/run` both start here.
#
# Installs what is missing when this user may install packages (root, or sudo
# without a password); otherwise prints one line saying what to run, and
# fails, before anything is built.
set -euo pipefail

missing=()
command -v make >/dev/null || missing+=(make)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# A browser of one's own, named by $CHROMIUM, needs nothing installed.
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)

((${#missing[@]})) || exit 0

apt_line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
elif command -v sudo >/dev/null; then
    echo "setup-system: the tests need ${missing[*]}; run: sudo apt-get update && sudo $apt_line" >&2
    exit 1
else
    echo "setup-system: the tests need ${missing[*]}; run as root: apt-get update && $apt_line" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "setup-system: the tests need ${missing[*]}; install them with this system's package manager" >&2
    exit 1
fi

echo "setup-system: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
