# eflow-netdiag as an IoT Edge module: a small Alpine image on a supported Node.js LTS, running as
# the unprivileged `node` user (uid 1000). Build context: the repository root (module.json says
# contextPath "."), e.g. `docker build -t localhost:5000/eflow-netdiag:0.1.0-amd64 .`
#
# Node.js major: 26, the Active LTS line on 2026-11-26 when it was chosen (Active LTS from
# 2026-10-28, maintenance from 2027-10-20, end of life 2029-04-30). Node 24 entered maintenance on
# 2026-10-20 and Node 20 reached end of life on 2026-04-30, so neither is the line to start a new
# image on. This ARG is the single source of truth: every stage uses it, and
# scripts/test-node-lts.sh runs the test suite under exactly this major before an image is built.
ARG NODE_MAJOR=26

# ---- build: compile TypeScript with the full (dev) dependency set --------------------------------
FROM node:${NODE_MAJOR}-alpine AS build
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
FROM node:${NODE_MAJOR}-alpine AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime -------------------------------------------------------------------------------------
FROM node:${NODE_MAJOR}-alpine AS runtime

LABEL org.opencontainers.image.title="eflow-netdiag" \
      org.opencontainers.image.description="IoT Edge module that finds why an EFLOW device cannot reach Azure: IP configuration, then DNS, then outbound ports 8883/5671/443" \
      org.opencontainers.image.licenses="MIT"

# iputils ping rather than BusyBox's applet: it is what CBL-Mariner (the EFLOW VM) ships, so the
# module's evidence matches what an operator sees by hand, and it is a separate binary that can
# carry cap_net_raw on its own (BusyBox would need the capability on every applet at once).
# With the file capability, ping works for the non-root user without a setuid bit and without
# relying on net.ipv4.ping_group_range; the deployment adds NET_RAW to the container's bounding
# set (and drops everything else), which is all this needs. setcap itself is removed again.
# npm, npx, corepack and yarn are removed too: the module never runs them, and they are the bulk
# of what image scanners flag in a Node base image.
RUN apk add --no-cache iputils-ping libcap-setcap \
 && ping_bin="$(readlink -f "$(command -v ping)")" \
 && "$ping_bin" -V | grep -q iputils \
 && setcap cap_net_raw+ep "$ping_bin" \
 && setcap -v cap_net_raw+ep "$ping_bin" \
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
