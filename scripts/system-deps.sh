#!/usr/bin/env bash
# The Debian packages the reports need: CJK fonts for charts and PDFs (Typst, which typesets the
# PDF, comes as a wheel with no system library), fontconfig (fc-match, with which the charts find
# a Chinese font), and poppler-utils (pdftotext, pdffonts) with which the tests read the PDFs back.
# `system-deps.sh --bench` adds Pango and HarfBuzz's subsetter for WeasyPrint's command line,
# which benchmarks/bench.py times as the plain way (pip install weasyprint).
# AR PL UKai is the free 楷体 for the （一） headings of 公文 (GB/T 9704); Noto Serif/Sans CJK stand
# in for 仿宋/小标宋 and 黑体 (Debian ships no simplified-Chinese 仿宋).
# `system-deps.sh --test` adds LibreOffice (Writer and Calc, no GUI), with which the tests print
# the Word and Excel files as a finance office would, Liberation Sans (Arial's metrics: without
# it LibreOffice sets the workbook's Arial in the wider DejaVu Sans and a one-page form prints on
# two), and Chromium, the browser that the tests of `evaltools serve` drive through Playwright.
# Installs what is missing when it can (root, or passwordless sudo); otherwise prints the
# exact command and carries on, so the steps that do not need them still run.
set -u
packages=(fonts-noto-cjk fonts-arphic-ukai fontconfig poppler-utils)
[ "${1:-}" = "--test" ] && packages+=(libreoffice-writer-nogui libreoffice-calc-nogui fonts-liberation2 chromium)
[ "${1:-}" = "--bench" ] && packages+=(libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0)

command -v dpkg-query >/dev/null 2>&1 || {
  echo "system-deps: not a Debian-like system; install the equivalents of: ${packages[*]}"; exit 0; }

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"
else
  echo "system-deps: missing Debian packages: ${missing[*]}"
  echo "system-deps: install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { echo "system-deps: apt-get failed; install by hand: apt-get install -y ${missing[*]}"; exit 1; }
