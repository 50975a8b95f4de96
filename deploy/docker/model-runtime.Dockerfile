# syntax=docker/dockerfile:1.7
# The Python model runtime (training worker and OpenAI-compatible server).
# Build from the repository root: docker build -f deploy/docker/model-runtime.Dockerfile -t alignment-studio/model-runtime .
# The PyPI torch wheels carry their CUDA libraries: on a GPU node (NVIDIA driver + container
# toolkit) the same image trains on the GPU; elsewhere it falls back to the CPU.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STUDIO_REPO_ROOT=/app \
    STUDIO_RUNTIME_CACHE=/var/cache/studio-runtime

WORKDIR /app

# Pinned dependencies first (cached), then the project itself from its pyproject.toml.
COPY apps/model-runtime/requirements.lock apps/model-runtime/requirements.lock
RUN pip install -r apps/model-runtime/requirements.lock
COPY apps/model-runtime/pyproject.toml apps/model-runtime/pyproject.toml
COPY apps/model-runtime/src apps/model-runtime/src
RUN pip install --no-deps ./apps/model-runtime

# The job and progress contracts (JSON Schema generated from libs/contracts), read at run time.
COPY libs/contracts/json-schema libs/contracts/json-schema

RUN useradd --create-home --uid 10001 runtime && mkdir -p /var/cache/studio-runtime && chown runtime /var/cache/studio-runtime
USER runtime

ENTRYPOINT ["studio-runtime"]
CMD ["worker"]
