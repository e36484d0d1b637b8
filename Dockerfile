# Perimeter container image: multi-stage, no TypeScript toolchain and no dev dependencies at
# runtime, a non-root user, and an init process so SIGTERM reaches the agent and drains it.
# Pin the base image by digest for production builds:
#   podman build --build-arg NODE_IMAGE=docker.io/library/node:24-bookworm-slim@sha256:<digest> .
# deploy/image/check.sh builds and runs it (and makes the base locally without a registry).
#
# Build-time only, never stored in the image:
#   --secret id=npm_ca,src=<PEM bundle>   extra CAs for npm (a TLS-inspecting proxy); mounted
#                                          only while npm runs
#   --build-arg HTTPS_PROXY / HTTP_PROXY / NO_PROXY   npm's proxy; predefined proxy arguments
#                                          stay out of the image's config and history
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,id=perimeter-npm,target=/root/.npm,sharing=locked \
    --mount=type=secret,id=npm_ca,target=/run/secrets/npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --no-audit --no-fund --prefer-offline
COPY tsconfig.json tsconfig.build.json ./
COPY agent ./agent
COPY connectors ./connectors
COPY secrets ./secrets
RUN npm run build

# Production dependencies alone, installed apart so the runtime stage runs no npm at all.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,id=perimeter-npm,target=/root/.npm,sharing=locked \
    --mount=type=secret,id=npm_ca,target=/run/secrets/npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --omit=dev --no-audit --no-fund --prefer-offline

FROM ${NODE_IMAGE} AS runtime
# npm, npx and corepack are not needed to run the agent: removed so they are not attack surface.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && groupadd --gid 10001 perimeter && useradd --uid 10001 --gid 10001 --no-create-home perimeter
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Late, so that a new revision rebuilds one small layer only. The RUN below is what makes the
# layer cache see the values (a LABEL step alone may be reused with the previous ones).
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=unknown
ARG LICENSES=NOASSERTION
RUN ln -s /app/bin/perimeter.js /usr/local/bin/perimeter
USER 10001:10001
EXPOSE 8080
LABEL org.opencontainers.image.title="perimeter" \
      org.opencontainers.image.description="Perimeter, a self-deployed metadata runtime: credentials never leave the perimeter." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}"
# bin/perimeter.js chooses the V8 heap settings from the memory limit (docs/performance.md).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/perimeter.js"]
CMD ["start"]
