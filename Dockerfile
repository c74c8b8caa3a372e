# syntax=docker/dockerfile:1
# One image for both tiers: RUN_API / RUN_WORKER choose what a container runs (deploy/kubernetes/).
# Build:  docker build -t mmm-engine:0.1.0 .

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so a source-only change reuses this layer.
COPY package.json package-lock.json ./
# npm's postinstall applies these to node_modules (patch-package; ADR 0012, "Stack traces off").
COPY patches ./patches
# The lock file currently lacks @swc/core's other-platform optional packages (a registry mirror left them out), and
# `npm ci` refuses such a lock as out of sync; `npm install` honours the same lock and skips them (the same fallback
# as scripts/ensure.mjs). Once package-lock.json is regenerated against a complete registry, `npm ci` alone suffices.
RUN npm ci --no-audit --no-fund \
 || (echo 'npm ci refused the lock file; falling back to npm install with the same lock' \
     && npm install --no-audit --no-fund)
COPY . .
# tsc into dist/, then pre-bundle the workflow code into dist/.tools/workflow-bundle.js (the worker loads it).
RUN npm run build \
 && test -f dist/workers/main.js \
 && test -f dist/.tools/workflow-bundle.js \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json /app/package-lock.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The files belong to root and the process runs as the image's unprivileged `node` user (uid 1000), so the code
# cannot be changed at run time; Kubernetes additionally mounts the root file system read-only.
USER 1000:1000
EXPOSE 8080
CMD ["node", "dist/workers/main.js"]
