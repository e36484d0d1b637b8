# Perimeter container image: multi-stage, no TypeScript toolchain and no dev dependencies at
# runtime, a non-root user, and an init process so SIGTERM reaches the agent and drains it.
# Pin the base image by digest for production builds:
#   podman build --build-arg NODE_IMAGE=docker.io/library/node:24-bookworm-slim@sha256:<digest> .
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY agent ./agent
COPY connectors ./connectors
COPY secrets ./secrets
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 perimeter && useradd --uid 10001 --gid 10001 --no-create-home perimeter
ENV NODE_ENV=production
# A young generation big enough that a streaming run is not slowed by constant scavenges; the
# old space is sized by Node from the container's memory limit (docs/benchmarks.md).
ENV NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN ln -s /app/bin/perimeter.js /usr/local/bin/perimeter
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/agent/main.js"]
CMD ["start"]
