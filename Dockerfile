# bun-relay on the official Bun image, same version CI pins (package.json "engines").
#   docker build -t bun-relay .
#   docker run -p 7001:7001 -p 7002:7002 -p 9464:9464 bun-relay
# Arguments after the image name are the relay's flags (ENTRYPOINT below), e.g.
#   docker run -p 7001:7001 -p 7002:7002 bun-relay --framing frame
FROM oven/bun:1.4.5-slim

WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

COPY src ./src
COPY bin ./bin

# Metrics and /healthz on every interface of the container (the relay's default is
# 127.0.0.1, which nothing outside the container can reach). Flags override these.
ENV RELAY_METRICS_PORT=9464 \
    RELAY_METRICS_HOST=0.0.0.0

# The image's unprivileged user.
USER bun
EXPOSE 7001 7002 9464

# The slim image has no curl: Bun itself asks /healthz, which answers 200 while the relay
# serves and 503 from the moment shutdown begins. It probes $RELAY_METRICS_PORT over plain
# HTTP on 127.0.0.1: change the metrics port with that variable (docker run -e
# RELAY_METRICS_PORT=9100), not with --metrics-port, which the check cannot see. With
# --metrics-tls the endpoint speaks HTTPS only and this check fails: give the container a
# HEALTHCHECK of your own (docker run --health-cmd, or a derived image).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bun", "-e", "fetch(`http://127.0.0.1:${process.env.RELAY_METRICS_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Exec form, so SIGTERM from `docker stop` reaches the relay and it flushes before exiting.
# Started through bin/bun-relay, usage lines and hints name the program `bun-relay`.
ENTRYPOINT ["bun", "bin/bun-relay"]
CMD []
