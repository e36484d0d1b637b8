#!/usr/bin/env bash
# Runs inside `unshare --mount --pid --fork`: shows the image's root filesystem read-only, with
# its own /proc, a small /dev and a tmpfs /tmp (as a container runtime would), then starts the
# image's entrypoint as the image's user with no capabilities and no way to gain privileges.
# The mounts vanish with the namespace; this process becomes the entrypoint (PID 1: tini).
#
# usage: rootfs-exec.sh IMAGE_MOUNT NEW_ROOT UID GID WORKDIR ENV_FILE -- ARGV...
set -euo pipefail

image_mount="$1" new_root="$2" uid="$3" gid="$4" workdir="$5" env_file="$6"
shift 6
[[ "${1:-}" == "--" ]] && shift

mount --make-rprivate /
mount --bind "$image_mount" "$new_root"
mount -o remount,bind,ro,nosuid,nodev "$new_root"
mount -t proc -o nosuid,nodev,noexec proc "$new_root/proc"
mount -t tmpfs -o nosuid,nodev,mode=1777,size=64m tmpfs "$new_root/tmp"
mount -t tmpfs -o nosuid,noexec,mode=755,size=1m tmpfs "$new_root/dev"
for device in null zero random urandom; do
  touch "$new_root/dev/$device"
  mount --bind "/dev/$device" "$new_root/dev/$device"
done

mapfile -t environment <"$env_file"
exec chroot "$new_root" /usr/bin/setpriv \
  --reuid="$uid" --regid="$gid" --clear-groups \
  --inh-caps=-all --bounding-set=-all --no-new-privs \
  /usr/bin/env -i --chdir="$workdir" "${environment[@]}" "$@"
