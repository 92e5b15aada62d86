# bun-relay on the official Bun image, same version CI pins (package.json "engines").
#   docker build -t bun-relay .
#   docker run -p 7001:7001 -p 7002:7002 bun-relay
FROM oven/bun:1.4.5-slim

WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

COPY src ./src

# The image's unprivileged user.
USER bun
EXPOSE 7001 7002
# Exec form, so SIGTERM from `docker stop` reaches the relay and it flushes before exiting.
ENTRYPOINT ["bun", "run", "src/main.ts"]
CMD []
