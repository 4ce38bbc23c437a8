#!/bin/sh
# Drops what a deployed folder (pnpm deploy --prod) carries but the gateway never loads at run time:
# source maps, type declarations, package docs, and better-sqlite3's build leftovers (the SQLite
# amalgamation, object files, the static library): only build/Release/better_sqlite3.node is loaded;
# and the code of @azure/msal-browser, which @azure/identity imports only in its browser build.
# Usage: docker/slim-deploy.sh <deployed folder>
set -eu
DIR=$1
[ -d "$DIR/node_modules/.pnpm" ] || { echo "slim-deploy: $DIR/node_modules/.pnpm not found" >&2; exit 1; }
find "$DIR/node_modules/.pnpm" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' \
  -o -name '*.d.cts' -o -iname 'README*' -o -iname 'CHANGELOG*' -o -iname 'HISTORY.md' \) -delete
for pkg in "$DIR"/node_modules/.pnpm/better-sqlite3@*/node_modules/better-sqlite3; do
  [ -d "$pkg" ] || continue # a folder without better-sqlite3 (the emulators)
  [ -f "$pkg/build/Release/better_sqlite3.node" ] || { echo "slim-deploy: no better_sqlite3.node in $pkg" >&2; exit 1; }
  mv "$pkg/build/Release/better_sqlite3.node" "$pkg/better_sqlite3.node.keep"
  rm -rf "$pkg/build" "$pkg/deps" "$pkg/src" "$pkg/binding.gyp"
  mkdir -p "$pkg/build/Release"
  mv "$pkg/better_sqlite3.node.keep" "$pkg/build/Release/better_sqlite3.node"
done
for pkg in "$DIR"/node_modules/.pnpm/@azure+msal-browser@*/node_modules/@azure/msal-browser; do
  if [ -d "$pkg" ]; then rm -rf "$pkg/dist" "$pkg/lib" "$pkg/src"; fi
done
