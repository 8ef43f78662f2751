# syntax=docker/dockerfile:1
# switchyard's container image:   docker build -t switchyard:0.1.0 .
#
# test/deploy/image-runtime.test.ts replays the runtime stage outside Docker:
# it copies what that stage COPYs, runs its `npm ci`, and starts its
# ENTRYPOINT + CMD. Keep the runtime stage to COPY, that one RUN, and
# metadata, so the replay stays faithful.

# Debian 12, like CI, where that replay runs; glibc, so any native module
# built there behaves the same here. Pin a digest for reproducible builds.
ARG NODE_IMAGE=node:20-bookworm-slim

# Build stage: every dependency, TypeScript → dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY ui ./ui
RUN npm run build

# Runtime stage: production dependencies only, so nothing here can lean on
# a dev dependency.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# A default config, so the image runs on its own (`serve --demo` starts the
# demo backends). Kubernetes mounts the ConfigMap over this directory.
COPY config/switchyard.yaml /etc/switchyard/switchyard.yaml
# Numeric (the image's `node` user), so Kubernetes' runAsNonRoot can check it.
USER 1000:1000
# The proxy, then the admin listener (/healthz, /readyz, /metrics).
EXPOSE 8080 9901
# Node is PID 1 and handles SIGTERM itself (stop accepting, drain, exit 0),
# so no init wrapper is needed; exec form, so no shell sits in between.
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["serve", "--config", "/etc/switchyard/switchyard.yaml"]
