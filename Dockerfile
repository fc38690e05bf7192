# fleetgate gateway image: the `fleetgate` bin, configured from the environment (README.md,
# "Deploying"). Multi-stage: dependencies and the build stay in the first stage; the runtime stage
# holds dist/, production node_modules and package.json, and runs as the unprivileged `node` user.
# Checked by e2e/deploy-manifests.test.ts (no docker daemon runs in this project's CI).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci` runs `prepare` (the build) only once the sources are in: skip scripts here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY lib ./lib
COPY sandbox ./sandbox
COPY fixtures ./fixtures
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 8080
# SIGTERM drains (SHUTDOWN_DELAY, then SHUTDOWN_GRACE): node is PID 1 and handles it itself.
CMD ["node", "dist/lib/bin/fleetgate.js"]
