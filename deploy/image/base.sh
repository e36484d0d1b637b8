#!/usr/bin/env bash
# Makes the Dockerfile's base image locally when no registry is reachable: Debian bookworm
# (debootstrap, minbase variant, like the slim images) with the Node 24 binary of the `node`
# devDependency and the npm that runs this script, laid out as the official node image lays
# them out (/usr/local/bin/node, /usr/local/lib/node_modules/npm). Tagged with the exact name
# of the Dockerfile's FROM, so the Dockerfile stays the one production uses.
#
# usage: deploy/image/base.sh IMAGE_NAME   (run as root; reuses IMAGE_NAME when present)
set -euo pipefail

image="${1:?usage: base.sh IMAGE_NAME}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if podman image exists "$image"; then
  echo "base: reusing $image"
  exit 0
fi

node_bin="$(readlink -f "$root/node_modules/node/bin/node")"
[[ -x "$node_bin" ]] || { echo "base: $root/node_modules/node/bin/node missing; run npm ci" >&2; exit 1; }
node_version="$("$node_bin" -v)"
[[ "$node_version" == v24.* ]] || { echo "base: expected Node 24, found $node_version" >&2; exit 1; }
npm_cli="${npm_execpath:-$(readlink -f "$(command -v npm)")}"
npm_dir="$(cd "$(dirname "$npm_cli")/.." && pwd)"
[[ -f "$npm_dir/bin/npm-cli.js" ]] || { echo "base: npm not found under $npm_dir" >&2; exit 1; }

work="$(mktemp -d /var/tmp/perimeter-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "base: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
rootfs="$work/rootfs"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*

install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

echo "base: importing as $image (node $node_version, npm $(node "$npm_dir/bin/npm-cli.js" -v))"
tar -C "$rootfs" --numeric-owner -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'CMD ["node"]' \
  --message "Debian bookworm minbase with Node $node_version, made by deploy/image/base.sh" \
  - "$image" >/dev/null
