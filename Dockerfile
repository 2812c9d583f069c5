# syntax=docker/dockerfile:1
# The one image for every service in docker-compose.yml: app v1, app v2, the migrate job, the command-line
# tools (flags, backfill, verify, rollout, status, db-contract), the balancer config renderer and the load
# scenario. Multi-stage: build (all dependencies, TypeScript compiled to JS), production dependencies,
# then a slim runtime with no compiler, no dev dependencies and no root user.
#   docker build -t dual-write-dual-read .      docker run --rm dual-write-dual-read node dist/app-v1/server.js
ARG NODE_VERSION=22

# sqlite3 is a native module built from source on install (node-gyp): the build stages need python3, make, g++.
FROM node:${NODE_VERSION}-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared shared
COPY examples examples
COPY app-v1 app-v1
COPY app-v2 app-v2
COPY cli cli
COPY load load
# npm run build: tsc -p tsconfig.build.json (rewriteRelativeImportExtensions turns the sources' `./x.ts`
# imports into `./x.js`), and the nginx template copied next to the compiled renderer that reads it.
RUN npm run build

FROM toolchain AS production-dependencies
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=production-dependencies /app/node_modules node_modules
COPY package.json ./
COPY --from=build /app/dist dist
# Dirs the non-root user writes: results (load history), data (a SQLite file, if used), and the balancer's
# run dir (a named volume mounted here starts out with this ownership).
RUN mkdir -p results data /run/balancer \
 && chown node:node results data /run/balancer
USER node
EXPOSE 3000
# /healthz answers 503 until the instance is registered, while its lease is lost and when the database is
# unreachable; on the ops port when OPS_PORT is set (compose and Kubernetes set 9000). fetch is built into Node 22.
HEALTHCHECK --interval=5s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (Number(process.env.OPS_PORT) || process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/app-v2/server.js"]
