# The inference service image: TypeScript compiled in a build stage, then a slim runtime with
# production dependencies only, run as the unprivileged `node` user.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY service/src service/src
COPY service/web service/web
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# @tensorflow/tfjs-node is optional: where its libtensorflow download works the native backend is
# used, where it does not the install still succeeds and the service runs on wasm.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The load generator (compose profile `load`): the build stage's full dependencies plus the
# scripts, for users who have nothing but Docker.
FROM build AS load
COPY devkit devkit
COPY scripts scripts
USER node
ENTRYPOINT ["scripts/load.sh"]
ENV LOAD_TARGETS=http://mnist-1:8000,http://mnist-2:8000
CMD ["--scenario", "steady"]

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=8000 METRICS_PORT=18000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist/service/src ./service/src
COPY --from=build /app/dist/service/web ./service/web
COPY service/model ./service/model
COPY service/healthcheck.sh ./service/healthcheck.sh
USER node
EXPOSE 8000 18000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["bash", "service/healthcheck.sh"]
# Node runs as PID 1 and handles SIGTERM/SIGINT itself (drain, then exit 0); compose adds `init`
# to reap any child process.
# With one CPU, V8's parallel collector threads only contend with the event loop for it, and a
# larger young generation collects less often (docs/benchmarks/ has the A/B runs; `npm run bench`
# runs the service with these same flags, read from here).
CMD ["node", "--single-threaded-gc", "--max-semi-space-size=64", "service/src/main.js"]
