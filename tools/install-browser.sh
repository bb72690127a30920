#!/bin/sh
# Debian's headless Chromium and CJK fonts, for the report's browser test (tests/test_report.py).
# Nothing is downloaded but Debian packages; a machine without apt-get skips the browser test (CI fails it).
set -e
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here; install Chromium and a CJK font yourself to run the browser test" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
