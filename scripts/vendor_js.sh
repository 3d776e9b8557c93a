#!/usr/bin/env bash
# Vendor the JavaScript the book needs offline: MathJax 3 (typeset math), the ipywidgets HTML manager
# (widgets embedded in pages) and RequireJS (which the widget manager loads through).
#
# Fetches the three npm packages as tarballs (`npm pack`: the package alone, no dependency tree) into the
# gitignored .vendor-cache/, then copies only the files the pages load into the gitignored book/_vendor/:
#   book/_vendor/mathjax/       MathJax es5 components: tex-chtml.js, input/ (TeX extensions autoloaded on
#                               demand), output/chtml/ (+ woff fonts), ui/ + a11y/ (right-click menu)
#   book/_vendor/html-manager/  @jupyter-widgets/html-manager dist/embed-amd.js + its icon fonts
#   book/_vendor/require.js
# _config.yml adds book/_vendor to html_static_path, so all of it lands in _build/html/_static/.
# Usage: scripts/vendor_js.sh [--force]      (re-running without --force is a no-op when up to date)
set -euo pipefail

MATHJAX_VERSION=3.2.2
HTML_MANAGER_VERSION=1.0.15   # 1.x = ipywidgets 8 widget state
REQUIREJS_VERSION=2.3.8

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.vendor-cache"
DEST="$ROOT/book/_vendor"
STAMP_TEXT="mathjax@$MATHJAX_VERSION @jupyter-widgets/html-manager@$HTML_MANAGER_VERSION requirejs@$REQUIREJS_VERSION"

if [[ "${1:-}" != "--force" && -f "$DEST/.stamp" && "$(cat "$DEST/.stamp")" == "$STAMP_TEXT" ]]; then
    echo "vendor_js: book/_vendor is up to date ($STAMP_TEXT)"
    exit 0
fi
command -v npm >/dev/null || { echo "vendor_js: npm not found; install Node.js (e.g. apt-get install npm)" >&2; exit 1; }

mkdir -p "$CACHE"
cd "$CACHE"
for spec in "mathjax@$MATHJAX_VERSION" "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION" "requirejs@$REQUIREJS_VERSION"; do
    # npm names the tarball <scope>-<name>-<version>.tgz
    tgz="$(echo "${spec#@}" | tr '/' '-' | sed 's/@/-/').tgz"
    if [[ ! -s "$tgz" ]]; then
        echo "vendor_js: npm pack $spec"
        npm pack --silent "$spec" >/dev/null
    fi
    [[ -s "$tgz" ]] || { echo "vendor_js: npm pack $spec did not produce $tgz" >&2; exit 1; }
    rm -rf "unpacked/${tgz%.tgz}" && mkdir -p "unpacked/${tgz%.tgz}"
    tar xzf "$tgz" -C "unpacked/${tgz%.tgz}"
done

TMP="$(mktemp -d "$ROOT/book/._vendor.XXXXXX")"
chmod 755 "$TMP"   # mktemp makes it 0700; the folder ends up in the published HTML
trap 'rm -rf "$TMP"' EXIT
MJ="unpacked/mathjax-$MATHJAX_VERSION/package/es5"
mkdir -p "$TMP/mathjax/output"
cp "$MJ"/{tex-chtml.js,tex-mml-chtml.js,startup.js,core.js,loader.js} "$TMP/mathjax/"
cp -r "$MJ"/{input,ui,a11y,adaptors} "$TMP/mathjax/"
cp -r "$MJ/output/chtml" "$MJ/output/chtml.js" "$TMP/mathjax/output/"
cp "unpacked/mathjax-$MATHJAX_VERSION/package/LICENSE" "$TMP/mathjax/LICENSE"

HM="unpacked/jupyter-widgets-html-manager-$HTML_MANAGER_VERSION/package"
mkdir -p "$TMP/html-manager"
cp "$HM"/dist/embed-amd.js "$HM"/dist/*.{woff2,woff,ttf,eot,svg} "$TMP/html-manager/"
cp "$HM"/LICENSE "$TMP/html-manager/" 2>/dev/null || true

cp "unpacked/requirejs-$REQUIREJS_VERSION/package/require.js" "$TMP/require.js"

echo "$STAMP_TEXT" > "$TMP/.stamp"
rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT
echo "vendor_js: wrote book/_vendor ($(du -sh "$DEST" | cut -f1)): $STAMP_TEXT"
