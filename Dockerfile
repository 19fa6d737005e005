# The inference service image: TypeScript compiled in a build stage, then a slim runtime with
# production dependencies only, run as the unprivileged `node` user. npm's cache is a BuildKit cache
# mount, so a changed lockfile downloads only what changed.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY service/src service/src
COPY service/web service/web
COPY autoscaler/src autoscaler/src
COPY rollout/src rollout/src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
# TFJS_NODE=1 adds the native TensorFlow backend (@tensorflow/tfjs-node, whose install downloads
# libtensorflow) and BACKEND=auto then prefers it; by default the image has the WebAssembly backend
# only, the one every test and figure of this project runs (docs/operations.md, The image).
ARG TFJS_NODE=0
WORKDIR /app
COPY package.json package-lock.json ./
# Then what a server never loads goes: source maps, TypeScript sources and declarations, packages'
# tests, examples and docs; in the
# four tfjs packages everything but their Node bundles (dist/tf-*.node.js, each package's `main`,
# self-contained) and the wasm binaries; Swagger UI's bundles that /docs does not serve.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund \
 && if [ "$TFJS_NODE" = 1 ]; then npm install --omit=dev --no-save --no-audit --no-fund @tensorflow/tfjs-node@4.22.0; fi \
 && find node_modules -type f \( -name '*.map' -o -name '*.ts' -o -name '*.md' \) -delete \
 && find node_modules -type d \( -name test -o -name tests -o -name __tests__ -o -name examples -o -name docs \) -prune \
      -exec rm -rf {} + \
 && for p in tfjs-core tfjs-layers tfjs-backend-cpu tfjs-backend-wasm; do \
      find "node_modules/@tensorflow/$p" -type f ! -name package.json ! -name 'LICENSE*' \
        ! -path '*/dist/tf-*.node.js' ! -path '*/dist/*.wasm' -delete; \
    done \
 && rm -f node_modules/swagger-ui-dist/swagger-ui-es-bundle*.js node_modules/swagger-ui-dist/swagger-ui.js \
 && find node_modules -type d -empty -delete

# The load generator (compose profile `load`): the build stage's full dependencies plus the
# scripts, for users who have nothing but Docker.
FROM build AS load
COPY devkit devkit
COPY scripts scripts
USER node
ENTRYPOINT ["scripts/load.sh"]
# Outside compose (which names the replicas), the cluster's entry point.
ENV LOAD_TARGETS=http://lb:8080
CMD ["--scenario", "steady"]

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=8000 METRICS_PORT=18000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist/service/src ./service/src
COPY --from=build /app/dist/service/web ./service/web
# The Swarm stack's autoscaler runs from this image too (`node autoscaler/src/main.js`).
COPY --from=build /app/dist/autoscaler/src ./autoscaler/src
COPY --from=build /app/dist/rollout/src ./rollout/src
COPY service/models ./service/models
COPY service/healthcheck.sh service/published-port-watchdog.sh ./service/
USER node
EXPOSE 8000 18000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["bash", "service/healthcheck.sh"]
# Node runs as PID 1 and handles SIGTERM/SIGINT itself (drain, then exit 0); compose adds `init`
# to reap any child process.
# With one CPU, V8's parallel collector threads only contend with the event loop for it, and a
# larger young generation collects less often (docs/benchmarks/ has the A/B runs; `npm run bench`
# runs the service with these same flags, read from here).
CMD ["node", "--single-threaded-gc", "--max-semi-space-size=64", "service/src/main.js"]
