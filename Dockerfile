# The Basalt Webhooks service on Bun. Build from the repository root: docker build -t basalt-webhooks .
FROM oven/bun:1.4.5-slim

WORKDIR /app

# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json bun.lock ./
COPY apps/server/package.json apps/server/package.json
COPY packages/core/package.json packages/core/package.json
COPY packages/db/package.json packages/db/package.json
RUN bun install --frozen-lockfile --production

COPY apps/server/src apps/server/src
COPY packages/core/src packages/core/src
COPY packages/db/src packages/db/src
COPY packages/db/drizzle packages/db/drizzle
# The seed and trigger commands, for trying the service: docker compose exec webhooks bun scripts/seed.ts
COPY scripts/seed.ts scripts/trigger.ts scripts/

ENV PORT=3000 HOST=0.0.0.0 LOG_FORMAT=json DATA_DIR=/app/.data
RUN mkdir -p /app/.data && chown bun:bun /app/.data
USER bun
EXPOSE 3000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:3000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["bun", "--no-env-file", "apps/server/src/main.ts"]
