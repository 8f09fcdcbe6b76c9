#!/bin/sh
# A browser test as QI desktop jobs ran them: the page's script must run in Chrome.
set -e
test -n "$DISPLAY" || { echo "no DISPLAY: a desktop test needs an X display" >&2; exit 1; }
case "$BROWSERS" in chrome) browser=google-chrome ;; *) echo "unknown BROWSERS=$BROWSERS" >&2; exit 1 ;; esac
"$browser" --headless --disable-gpu --dump-dom "file://$PWD/test/page.html" 2>/dev/null > /tmp/dom.html
grep -q '<p id="result">42</p>' /tmp/dom.html || { echo "the page's script did not run:"; cat /tmp/dom.html; exit 1; }
echo "browser test passed with $("$browser" --version)"
