# The duban image: one entry point, `duban`; compose picks the part (api, worker, migrate).
# The wheel is built in a throwaway stage so the final image holds no sources or build tools.

# The pages' htmx and ECharts, installed from the npm registry as package-lock.json pins them (as
# `make venv` does); the wheel carries them, so the running image loads nothing from a CDN.
FROM node:20.18.1-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
COPY --from=assets /assets/node_modules/htmx.org/dist/htmx.min.js pages/static/vendor/htmx.min.js
COPY --from=assets /assets/node_modules/echarts/dist/echarts.min.js pages/static/vendor/echarts.min.js
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production \
    DATA_DIR=/var/lib/duban
COPY --from=build /wheels /wheels
# Runtime dependencies only: the test extra is never installed here.
RUN pip install /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /var/lib/duban --create-home duban
USER duban
WORKDIR /var/lib/duban
EXPOSE 8000
ENTRYPOINT ["duban"]
CMD ["api"]
