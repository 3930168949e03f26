# The credit-pipeline worker image: Node 24 (LTS) on Debian bookworm with Debian's libxgboost (1.7.4).
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libxgboost0 fonts-dejavu-core ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's install script would download CUDA files: ONNXRUNTIME_NODE_INSTALL=skip turns it off.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY lib ./lib
COPY core ./core
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY tsconfig.json ./
# The volumes' mount points, owned by the user the worker runs as: an empty named volume takes the owner of the
# folder it is mounted on, so without these Docker would create them as root and the worker could not write.
RUN mkdir -p /data/datamart /data/model_bank /data/reports /data/raw \
 && chown -R node:node /data
ENV DATAMART_DIR=/data/datamart MODEL_BANK_DIR=/data/model_bank REPORTS_DIR=/data/reports
USER node
CMD ["npx", "tsx", "workers/main.ts"]
