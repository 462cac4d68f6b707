#!/usr/bin/env bash
# Install Debian's Chromium (and fonts for Cyrillic and emoji) for the browser test and the docs
# screenshots when missing: quiet and idempotent. Playwright drives /usr/bin/chromium; it never
# downloads a browser of its own.
set -eu
CHROMIUM=/usr/bin/chromium
EMOJI_FONT=/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
[ -x "$CHROMIUM" ] && [ -f "$EMOJI_FONT" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Chromium is missing at $CHROMIUM: install Debian's chromium and fonts-noto-color-emoji as root" >&2
  exit 1
fi
echo "installing Chromium and fonts (apt-get install chromium)" >&2
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (a parallel setup) instead of failing on its lock.
apt_get() { apt-get -q -y -o DPkg::Lock::Timeout=300 "$@"; }
apt_get update >/dev/null || echo "apt-get update failed; trying the package lists we have" >&2
apt_get install --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null
[ -x "$CHROMIUM" ] || { echo "apt-get installed chromium, yet $CHROMIUM is missing" >&2; exit 1; }
