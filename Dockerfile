# eflow-netdiag as an IoT Edge module: a small Alpine image on a supported Node.js LTS, running as
# the unprivileged `node` user (uid 1000). Build context: the repository root (module.json says
# contextPath "."), e.g. `docker build -t localhost:5000/eflow-netdiag:0.1.0-amd64 .`, and for ARM64
# EFLOW `docker buildx build --platform linux/arm64 -t …:0.1.0-arm64v8 .` (the base image is
# multi-arch; iotedgedev passes no --platform of its own). Build with a rootful Docker engine: a
# rootless or user-namespaced builder writes the file capabilities below in a form (v3, tied to
# its namespace) that the device's kernel ignores, and ping then reports "not permitted".
#
# Node.js: 26, the Active LTS line on 2026-11-26 when it was chosen (Active LTS from 2026-10-28,
# maintenance from 2027-10-20, end of life 2029-04-30). Node 24 entered maintenance on 2026-10-20
# and Node 20 reached end of life on 2026-04-30, so neither is the line to start a new image on.
# The tag is pinned, release and Alpine branch both (docker-library/official-images library/node
# publishes 26.13.0-alpine3.24 for amd64 and arm64v8), so a rebuild cannot silently move to another
# Node or Alpine; bump both ARGs on purpose. They are the single source of truth: every stage uses
# them, and scripts/test-node-lts.sh runs the tests under the major read from these FROM lines.
# Alpine's Node builds are musl builds, which the Node.js project tests less than glibc ones
# (arm64 musl is "not tested before release"); node:26-trixie-slim is the conservative fallback.
ARG NODE_VERSION=26.13.0
ARG ALPINE_VERSION=3.24

# ---- build: compile TypeScript with the full (dev) dependency set --------------------------------
FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The only dependency with an install script is esbuild (through tsx, a test tool); tsc needs none.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- prod-deps: production dependencies, installed fresh from the lockfile -----------------------
# A clean `npm ci --omit=dev` rather than pruning the build stage's tree: nothing a devDependency
# pulled in can reach the image, and no dependency runs an install script.
FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime -------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS runtime

LABEL org.opencontainers.image.title="eflow-netdiag" \
      org.opencontainers.image.description="IoT Edge module that finds why an EFLOW device cannot reach Azure: IP configuration, then DNS, then outbound ports 8883/5671/443" \
      org.opencontainers.image.licenses="MIT"

# iputils ping and arping rather than BusyBox's applets: iputils is what Azure Linux (the EFLOW VM)
# ships, so the module's evidence matches what an operator sees by hand, and each is a separate
# binary that can carry cap_net_raw on its own (BusyBox would need it on every applet at once).
# Alpine installs /bin/ping setuid root (aports main/iputils: `install -Dm4755 … /bin/ping`) and
# /usr/sbin/arping 0755 without any capability (built with NO_SETCAP_OR_SUID). The setuid bit is
# removed: with it ping would run with euid 0 (holding only NET_RAW, but owning every root-owned
# file, /app included). Instead each binary carries the file capability cap_net_raw+ep, the one
# capability both need (a raw ICMP socket; an AF_PACKET socket and SO_BINDTODEVICE for arping),
# so they work for the non-root user without net.ipv4.ping_group_range. The deployment keeps
# NET_RAW in the container's bounding set and drops everything else, and must not set
# no-new-privileges (it disables file capabilities). The loop fails the build if a binary is not
# iputils, keeps a setuid/setgid bit, or lacks the capability; test/packaging/image-file-modes
# runs this same loop on copies of the binaries. setcap itself is removed again. npm, npx,
# corepack and yarn are removed too: the module never runs them, and they are the bulk of what
# image scanners flag in a Node base image.
RUN apk add --no-cache iputils-ping iputils-arping libcap-setcap \
 && for tool in ping arping; do \
      bin="$(readlink -f "$(command -v "$tool")")" \
      && "$bin" -V | grep -q iputils \
      && chmod u-s,g-s "$bin" \
      && setcap cap_net_raw+ep "$bin" \
      && setcap -v cap_net_raw+ep "$bin" \
      && [ "$(stat -c %a "$bin")" = 755 ] \
      || exit 1; \
    done \
 && apk del --no-network libcap-setcap \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*

ENV NODE_ENV=production
# Memory: the module's heap holds ~13 MB, but V8's default young generation (16 MB semi-spaces),
# JIT code and glibc's per-thread malloc arenas let RSS climb well past that. Measured with
# `npm run bench` (module, 1,000 runDiagnostics in the lab, Node 20/glibc): defaults 94 MB idle and
# 122+ MB under load; a 1 MB semi-space 79/87 MB; adding --jitless 69/77 MB, with the same method
# round trip (442 ms: the check waits on the network, not on JavaScript). MALLOC_ARENA_MAX is
# ignored by musl; it matters when the image is rebased on a glibc distribution.
# Trap: --jitless also disables WebAssembly, and Node's built-in fetch() parses HTTP with undici's
# wasm llhttp, so every fetch() fails ("WebAssembly is not supported in this environment, but is
# required for HTTP/1 parsing" on Node 26). Nothing here uses fetch or wasm today (a test in
# test/packaging/dockerfile.test.ts keeps it so); code that starts to must drop --jitless here,
# and bench/ measures what that costs.
ENV NODE_OPTIONS="--max-semi-space-size=1 --jitless" MALLOC_ARENA_MAX=2
WORKDIR /app
# Owned by root and only readable by the module: the process cannot rewrite its own code.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY schema ./schema
COPY package.json ./

USER node

# `docker run IMAGE check --json` runs one check instead; the module is the default.
ENTRYPOINT ["node", "dist/main.js"]
CMD ["module"]
