#!/usr/bin/env bash
# Builds docker/Dockerfile with buildah where there is no Docker engine (as in this project's CI):
# the stand-in base first (docker/stand-in-base.sh), then the real Dockerfile, unchanged.
# Usage: docker/build-image.sh [tag, default localhost/secret-gateway:test] [target, default the last stage]
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-localhost/secret-gateway:test}
target=()
[ -n "${2:-}" ] && target=(--target "$2")
bash docker/stand-in-base.sh 24
# A TLS-inspecting proxy's CA reaches npm inside the build as a secret, never as a layer.
CA=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[ -s "$CA" ] && secret=(--secret "id=ca,src=$CA")
buildah --storage-driver vfs bud --isolation chroot --layers --format docker "${secret[@]}" "${target[@]}" \
  -f docker/Dockerfile -t "$TAG" .
