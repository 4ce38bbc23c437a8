#!/usr/bin/env bash
# Prints an image's size layer by layer, as a registry transfers it (gzip-compressed layers, what
# `docker pull` downloads) and unpacked (what `docker images` shows), base layers apart from ours.
# Usage: docker/image-size.sh [tag, default localhost/secret-gateway:test] [base, default node:24-bookworm-slim]
set -euo pipefail
TAG=${1:-localhost/secret-gateway:test}
BASE=${2:-docker.io/library/node:24-bookworm-slim}
STORE=(--storage-driver vfs)
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
buildah "${STORE[@]}" push --quiet "$TAG" "oci:$DIR/image:latest" >/dev/null
base_layers=$(buildah "${STORE[@]}" inspect --type image --format '{{len .OCIv1.RootFS.DiffIDs}}' "$BASE")
node - "$DIR/image" "$base_layers" <<'JS'
const { readFileSync } = require('node:fs');
const { gunzipSync } = require('node:zlib');
const [dir, baseCount] = [process.argv[2], Number(process.argv[3])];
const blob = (d) => readFileSync(`${dir}/blobs/${d.replace(':', '/')}`);
const index = JSON.parse(readFileSync(`${dir}/index.json`, 'utf8'));
const manifest = JSON.parse(blob(index.manifests[0].digest));
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const sums = { base: [0, 0], ours: [0, 0] };
manifest.layers.forEach((layer, i) => {
  const data = blob(layer.digest);
  const unpacked = layer.mediaType.endsWith('gzip') ? gunzipSync(data).length : data.length;
  const part = i < baseCount ? 'base' : 'ours';
  sums[part][0] += data.length;
  sums[part][1] += unpacked;
  console.log(`layer ${i} (${part}): ${mb(data.length)} compressed, ${mb(unpacked)} unpacked`);
});
for (const part of ['base', 'ours']) console.log(`${part}: ${mb(sums[part][0])} compressed, ${mb(sums[part][1])} unpacked`);
const total = [sums.base[0] + sums.ours[0], sums.base[1] + sums.ours[1]];
console.log(`total: ${mb(total[0])} compressed, ${mb(total[1])} unpacked`);
JS
