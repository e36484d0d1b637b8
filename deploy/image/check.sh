#!/usr/bin/env bash
# Builds the container image with podman and runs it the way a cluster would: the image's own
# root filesystem read-only, its user, no capabilities, standalone mode against the local Redis.
# Asserts what an operator reviews before deploying it (user, contents, labels, no build-time
# CA left behind, /livez, /readyz, a clean SIGTERM exit) and prints the image's sizes.
#
# usage: deploy/image/check.sh        (npm run image:check; root; skips without podman)
# env:   PERIMETER_IMAGE    tag to build (default localhost/perimeter:check)
#        REDIS_URL          Redis the agent uses (default redis://127.0.0.1:6379)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/deploy/image"
image="${PERIMETER_IMAGE:-localhost/perimeter:check}"
redis_url="${REDIS_URL:-redis://127.0.0.1:6379}"
prefix="perimeter-image-check-$$"
# Node 24 of the `node` devDependency first, as in npm scripts: the helpers are TypeScript.
export PATH="$root/node_modules/.bin:$PATH"

for tool in podman debootstrap; do
  if ! command -v "$tool" >/dev/null; then
    echo "skipped: $tool not installed"
    exit 0
  fi
done
if [[ "$(id -u)" != 0 ]]; then
  echo "skipped: needs root (podman image mount, unshare, chroot)"
  exit 0
fi
for tool in curl redis-cli unshare setpriv; do
  command -v "$tool" >/dev/null || { echo "image check: $tool is required" >&2; exit 1; }
done

work="$(mktemp -d /var/tmp/perimeter-image-check.XXXXXX)"
agent_pid="" catalog_pid="" image_mount=""

cleanup() {
  local status=$?
  set +e
  if [[ -n "$agent_pid" ]] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -TERM "$(namespace_init)" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$(namespace_init)" "$agent_pid" 2>/dev/null
    wait "$agent_pid" 2>/dev/null
  fi
  if [[ -n "$catalog_pid" ]]; then
    kill -TERM "$catalog_pid" 2>/dev/null
    wait "$catalog_pid" 2>/dev/null
  fi
  [[ -n "$image_mount" ]] && podman image umount "$image" >/dev/null
  redis-cli -u "$redis_url" --scan --pattern "$prefix*" 2>/dev/null \
    | xargs -r redis-cli -u "$redis_url" del >/dev/null 2>&1
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "image check FAILED: $*" >&2
  if [[ -f "$work/agent.log" ]]; then
    echo "--- agent output (last 30 lines) ---" >&2
    tail -30 "$work/agent.log" >&2
  fi
  exit 1
}

# PID 1 of the agent's namespace (tini): the child of `unshare --fork`.
namespace_init() { ps -o pid= --ppid "$agent_pid" | tr -d ' '; }

inspect() { podman image inspect --format "$1" "$image"; }
label() { inspect "{{index .Config.Labels \"org.opencontainers.image.$1\"}}"; }

ensure_base() {
  local base
  base="$(sed -n 's/^ARG NODE_IMAGE=//p' "$root/Dockerfile")"
  [[ -n "$base" ]] || fail "the Dockerfile has no default ARG NODE_IMAGE"
  if podman image exists "$base"; then
    echo "base: reusing $base"
  elif timeout 30 podman pull -q "$base" >/dev/null 2>&1; then
    echo "base: pulled $base"
  else
    echo "base: no registry reachable; making $base locally"
    local started=$SECONDS
    "$here/base.sh" "$base"
    echo "base: made in $((SECONDS - started))s"
  fi
}

build_args() {
  local version revision source licenses proxy
  version="$(node -p "require('$root/package.json').version")"
  revision="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
  source="$(node -p "const r = require('$root/package.json').repository; (typeof r === 'string' ? r : r?.url) ?? ''")"
  [[ -n "$source" ]] || source="$(git -C "$root" remote get-url origin 2>/dev/null || true)"
  # A clone of a local folder has a path for a remote: that is no source anyone else can reach.
  [[ "$source" == *://* || "$source" == git@* ]] || source=unknown
  licenses="$(node -p "require('$root/package.json').license ?? 'NOASSERTION'")"
  args=(--build-arg "VERSION=$version" --build-arg "REVISION=$revision"
    --build-arg "SOURCE=$source" --build-arg "LICENSES=$licenses")
  # npm's own proxy settings, else the environment's; predefined proxy arguments do not persist.
  proxy="$(npm config get https-proxy 2>/dev/null || true)"
  [[ "$proxy" == null || -z "$proxy" ]] && proxy="$(npm config get proxy 2>/dev/null || true)"
  [[ "$proxy" == null || -z "$proxy" ]] && proxy="${HTTPS_PROXY:-${https_proxy:-}}"
  [[ -n "$proxy" ]] && args+=(--build-arg "HTTPS_PROXY=$proxy" --build-arg "HTTP_PROXY=$proxy")
  [[ -n "${NO_PROXY:-${no_proxy:-}}" ]] && args+=(--build-arg "NO_PROXY=${NO_PROXY:-$no_proxy}")
  if [[ -n "${NODE_EXTRA_CA_CERTS:-}" && -r "$NODE_EXTRA_CA_CERTS" ]]; then
    args+=(--secret "id=npm_ca,src=$NODE_EXTRA_CA_CERTS")
  fi
  expected_version="$version" expected_revision="$revision" build_proxy="$proxy"
}

build_image() {
  local previous started
  previous="$(inspect '{{.Id}}' 2>/dev/null || true)"
  build_args
  started=$SECONDS
  podman build --isolation chroot --layers -f "$root/Dockerfile" -t "$image" "${args[@]}" \
    "$root" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "podman build failed"; }
  build_seconds=$((SECONDS - started))
  echo "build: ${build_seconds}s"
  if [[ -n "$previous" && "$previous" != "$(inspect '{{.Id}}')" ]]; then
    podman rmi "$previous" >/dev/null 2>&1 || true
  fi
}

check_config() {
  local user name
  user="$(inspect '{{.Config.User}}')"
  [[ "$user" =~ ^[0-9]+:[0-9]+$ ]] || fail "USER must be numeric uid:gid, is '$user'"
  uid="${user%%:*}" gid="${user##*:}"
  [[ "$uid" != 0 && "$gid" != 0 ]] || fail "the image runs as root"
  for name in source version revision title licenses; do
    [[ -n "$(label "$name")" ]] || fail "label org.opencontainers.image.$name is missing"
  done
  [[ "$(label version)" == "$expected_version" ]] || fail "label version is not $expected_version"
  [[ "$(label revision)" == "$expected_revision" ]] || fail "label revision is not $expected_revision"
  if [[ -n "$build_proxy" ]] && podman image inspect "$image" | grep -qF "$build_proxy"; then
    fail "the build proxy is stored in the image's config"
  fi
  if [[ -n "$build_proxy" ]] && podman history --no-trunc "$image" | grep -qF "$build_proxy"; then
    fail "the build proxy is stored in the image's history"
  fi
}

check_contents() {
  local found
  [[ -f "$image_mount/app/dist/agent/main.js" ]] || fail "dist/agent/main.js is missing"
  [[ -d "$image_mount/app/node_modules/fastify" ]] || fail "production dependencies are missing"
  found="$(node "$here/dev-packages.ts" "$root/package-lock.json" "$image_mount/app")"
  [[ -z "$found" ]] || fail "dev dependencies in the image: $(echo "$found" | head -5 | tr '\n' ' ')"
  found="$(find "$image_mount/app" -path "$image_mount/app/node_modules" -prune -o \
    \( -name '*.test.*' -o -name '*.ts' -o -name test -o -name bench -o -name '*.spec.*' \) -print)"
  [[ -z "$found" ]] || fail "test or source files in the image: $(echo "$found" | head -5 | tr '\n' ' ')"
  [[ ! -e "$image_mount/usr/local/bin/npm" ]] || fail "npm is left in the runtime image"
}

# The CA bundle given to npm must not be in the final root filesystem nor in any layer.
check_no_build_ca() {
  local bundle="${NODE_EXTRA_CA_CERTS:-}" size digest blob
  [[ -n "$bundle" && -r "$bundle" ]] || { echo "build CA: none given"; return; }
  node "$here/ca-markers.ts" "$bundle" "$image_mount/etc/ssl/certs/ca-certificates.crt" \
    >"$work/ca-markers"
  size="$(stat -c %s "$bundle")" digest="$(sha256sum "$bundle" | cut -d' ' -f1)"
  if find "$image_mount" -xdev -type f -size "${size}c" -exec sha256sum {} + | grep -q "^$digest "; then
    fail "the build CA bundle is in the image's root filesystem"
  fi
  if [[ -s "$work/ca-markers" ]]; then
    grep -rqF -f "$work/ca-markers" "$image_mount" 2>/dev/null \
      && fail "a build-time CA certificate is in the image's root filesystem"
    podman save -q --format oci-dir -o "$work/oci" "$image"
    for blob in "$work"/oci/blobs/sha256/*; do
      zcat -f "$blob" | grep -qF -f "$work/ca-markers" \
        && fail "a build-time CA certificate is in layer $(basename "$blob")"
    done
  fi
  echo "build CA: not in the root filesystem nor in any of its layers" \
    "($(wc -l <"$work/ca-markers") certificate(s) beyond the image's own roots looked for)"
}

start_catalog() {
  node --input-type=module -e "
    import { startCatalogReceiver } from '$root/test/fakes/catalog-receiver.ts';
    const receiver = await startCatalogReceiver();
    console.log(receiver.url);
    process.once('SIGTERM', () => void receiver.close().then(() => process.exit(0)));
  " >"$work/catalog.url" 2>"$work/catalog.log" &
  catalog_pid=$!
  for _ in $(seq 1 50); do [[ -s "$work/catalog.url" ]] && break; sleep 0.2; done
  [[ -s "$work/catalog.url" ]] || fail "the catalog receiver did not start"
}

free_port() {
  node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => {
    console.log(s.address().port); s.close(); });"
}

start_agent() {
  local entrypoint command
  mapfile -t entrypoint < <(inspect '{{range .Config.Entrypoint}}{{println .}}{{end}}' | sed '/^$/d')
  mapfile -t command < <(inspect '{{range .Config.Cmd}}{{println .}}{{end}}' | sed '/^$/d')
  port="$(free_port)"
  {
    inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d'
    echo "PERIMETER_AGENT_ID=image-check"
    echo "PERIMETER_REDIS_URL=$redis_url"
    echo "PERIMETER_REDIS_PREFIX=$prefix"
    echo "PERIMETER_HEALTH_HOST=127.0.0.1"
    echo "PERIMETER_HEALTH_PORT=$port"
    echo "PERIMETER_HEALTH_PROBE_INTERVAL_MS=1000"
    echo "PERIMETER_CATALOG_URL=$(cat "$work/catalog.url")"
  } >"$work/env"
  mkdir "$work/root"
  unshare --mount --pid --fork -- "$here/rootfs-exec.sh" "$image_mount" "$work/root" \
    "$uid" "$gid" "$(inspect '{{.Config.WorkingDir}}')" "$work/env" -- \
    "${entrypoint[@]}" "${command[@]}" >"$work/agent.log" 2>&1 &
  agent_pid=$!
}

wait_ready() {
  local code=""
  for _ in $(seq 1 120); do
    kill -0 "$agent_pid" 2>/dev/null || fail "the agent exited before it was ready"
    code="$(curl -s -o "$work/readyz" -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)"
    [[ "$code" == 200 ]] && break
    sleep 0.5
  done
  [[ "$code" == 200 ]] || fail "/readyz answered $code: $(cat "$work/readyz" 2>/dev/null)"
  curl -sf "http://127.0.0.1:$port/livez" >/dev/null || fail "/livez did not answer 200"
  echo "run: /livez 200, /readyz 200 $(cat "$work/readyz")"
}

check_process() {
  local init node_pid ids
  init="$(namespace_init)"
  node_pid="$(ps -o pid= --ppid "$init" | tr -d ' ')"
  ids="$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$node_pid/status")"
  [[ "$ids" == "$uid $uid $uid $uid" ]] || fail "the agent runs with uids '$ids', not $uid"
  awk '$5 == "/" {print $6}' "/proc/$node_pid/mountinfo" | grep -q '^ro' \
    || fail "the agent's root filesystem is not read-only"
  grep -q '^CapEff:[[:space:]]*0*$' "/proc/$node_pid/status" || fail "the agent has capabilities"
  echo "run: pid 1 is $(cat "/proc/$init/comm"), the agent runs as uid $uid on a read-only root, no capabilities"
}

stop_agent() {
  local status=0
  kill -TERM "$(namespace_init)"
  for _ in $(seq 1 80); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$agent_pid" 2>/dev/null && fail "the agent did not exit within 40 s of SIGTERM"
  wait "$agent_pid" || status=$?
  agent_pid=""
  [[ "$status" == 0 ]] || fail "the agent exited with $status after SIGTERM"
  echo "run: SIGTERM → exit 0"
}

report_sizes() {
  echo "image: $image $(inspect '{{.Id}}' | cut -c1-12)," \
    "$(numfmt --to=si --suffix=B "$(inspect '{{.Size}}')")"
  echo "node_modules: $(du -sh "$image_mount/app/node_modules" | cut -f1)"
  echo "labels:"
  inspect '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{println}}{{end}}' \
    | grep '^org.opencontainers' | sed 's/^/  /'
}

ensure_base
build_image
check_config
image_mount="$(podman image mount "$image")"
check_contents
check_no_build_ca
start_catalog
start_agent
wait_ready
check_process
stop_agent
report_sizes
echo "image check passed"
