# The credit-pipeline image: compiled JavaScript and a prebuilt workflow bundle on Node 24 (Debian bookworm) with
# Debian's libxgboost (1.7.4). Three stages: `build` compiles (tsc, tsconfig.build.json) and bundles the workflows
# (bundleWorkflowCode, the SDK's production pattern), `deps` installs the production dependencies only, and the
# runtime stage copies exactly what the worker and the scoring API load: no tsx, no TypeScript, no devDependencies.
# test/platform/worker-image.test.ts lays out this file's COPY set and starts the worker from it, so a runtime file
# missing here fails `npm test`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's install script would download CUDA files: ONNXRUNTIME_NODE_INSTALL=skip turns it off.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY lib ./lib
COPY core ./core
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY scripts ./scripts
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libxgboost0 fonts-dejavu-core ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The volumes' mount points and the paths the processes write (DuckDB's spill in /tmp), owned by the user they run
# as: an empty named volume takes the owner of the folder it is mounted on, so without these Docker would create
# them as root and the worker could not write. /app itself stays read-only to that user.
RUN mkdir -p /data/datamart /data/model_bank /data/reports /data/raw \
 && chown -R node:node /data
ENV NODE_ENV=production \
    DATAMART_DIR=/data/datamart MODEL_BANK_DIR=/data/model_bank REPORTS_DIR=/data/reports \
    WORKER_METRICS_HOST=0.0.0.0 WORKER_METRICS_PORT=9464
USER node
EXPOSE 9464
# Ready = polling the task queue (the worker's own temporal_num_pollers); the scoring API's service overrides it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "dist/workers/healthcheck.js"]
CMD ["node", "dist/workers/main.js"]
