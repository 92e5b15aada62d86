/**
 * The HTTP endpoint for monitoring, on its own port (--metrics-port, --metrics-host):
 *
 * - `GET /metrics`: the registry in the Prometheus text format, collected at request time.
 * - `GET /healthz`: 200 `ok` while the relay serves, 503 `shutting down` from the moment
 *   shutdown begins, so a load balancer or orchestrator stops sending clients before the
 *   listeners are gone and while queued data is still being flushed. With --cluster it also
 *   says the backplane's state (header `X-Relay-Cluster` and a second body line `cluster
 *   STATE`), and stays 200 while the backplane is down: the relay still serves its own
 *   clients, so taking it out of a load balancer would only make things worse.
 *
 * - With `relay` (the relay mode): `/varz`, `/connz`, `/subsz` in nats-server's JSON shapes,
 *   and the live status page at `/` (src/metrics/monitor.ts).
 *
 * It is a separate Bun.serve server, not a path on the relay's ports: the relay speaks raw
 * TCP lines, and keeping HTTP off those ports means a scrape can never be read as a message.
 * With `access`, --allow-from applies here too: a peer outside it gets 403 on every path, and
 * is counted and logged as a refusal of listener `metrics`, as on the other ports.
 */
import type { Server } from "bun";
import type { Registry } from "prom-client";
import { formatPeer, listenError } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import { AccessRefusal } from "../net/net-events.ts";
import type { ListenerTlsOptions } from "../net/tls-config.ts";
import { Monitor, type MonitoredRelay, type MonitorOptions } from "./monitor.ts";

/** The listener's name in refusal events and bun_relay_access_refused_total. */
export const METRICS_LISTENER = "metrics";

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port; read the bound one from `port`. */
  port: number;
  registry: Registry;
  /** False once the relay has begun to shut down: /healthz then answers 503. */
  isServing: () => boolean;
  /** With --cluster: the backplane's state (connecting, connected, disconnected, closed). */
  clusterState?: () => string;
  /** SO_REUSEPORT (--reuse-port): several relay processes share the port. */
  reusePort?: boolean;
  /** --metrics-tls: HTTPS with the relay's certificate (src/net/tls-config.ts). */
  tls?: ListenerTlsOptions | undefined;
  /** --allow-from (read at each request, so SIGHUP reloads apply) and the refusal counters. */
  access?: NetAccess | undefined;
  /** The relay: /varz, /connz, /subsz and the status page are served only with it. */
  relay?: { source: MonitoredRelay; options: MonitorOptions } | undefined;
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };

export class MetricsServer {
  private server!: Server<undefined>;
  /** The relay's monitoring paths and status page (undefined without `relay`). */
  readonly monitor: Monitor | undefined;

  private constructor(
    readonly host: string,
    private readonly options: MetricsServerOptions,
  ) {
    const relay = options.relay;
    this.monitor = relay === undefined ? undefined : new Monitor(relay.source, relay.options);
    options.access?.counters.httpListeners.add(METRICS_LISTENER);
  }

  /**
   * Starts listening. Throws a RelayError (RELAY_ERR_ADDRESS_IN_USE or RELAY_ERR_LISTEN_FAILED)
   * when the port cannot be opened.
   */
  static start(options: MetricsServerOptions): MetricsServer {
    const metrics = new MetricsServer(options.host, options);
    try {
      metrics.server = metrics.serve(options.port, options.tls);
    } catch (error) {
      metrics.monitor?.stop();
      throw error;
    }
    return metrics;
  }

  /** Opens the Bun.serve server on `port` with `tls`; throws a RelayError when it cannot. */
  private serve(port: number, tls: ListenerTlsOptions | undefined): Server<undefined> {
    const { host, registry, isServing, clusterState } = this.options;
    let server: Server<undefined>;
    try {
      server = Bun.serve({
        hostname: host,
        port,
        development: false,
        // Bun 1.4.5 turns SO_REUSEPORT on when `development` is false (checked by experiment),
        // so a second relay on the same --metrics-port would share it silently instead of
        // failing; each relay must own its endpoint, or scrapes land on either at random.
        reusePort: this.options.reusePort ?? false,
        ...(tls === undefined ? {} : { tls }),
        fetch: (request, bunServer) =>
          this.refusal(request, bunServer) ??
          this.monitorResponse(request, bunServer) ??
          respond(request, registry, isServing, clusterState),
        error(error) {
          // A collect() callback threw: say so to the scraper instead of dropping the request.
          return new Response(`metrics collection failed: ${error.message}\n`, {
            status: 500,
            headers: TEXT,
          });
        },
      });
    } catch (error) {
      throw listenError("metrics", host, port, error);
    }
    return server;
  }

  /**
   * --allow-from: a 403 for a peer outside it (counted and logged), else undefined. /healthz
   * is answered to everyone: it says only "ok" or "shutting down" (and the backplane's
   * state), and load balancers, orchestrators and the image's HEALTHCHECK probe it from
   * addresses an operator does not list.
   */
  private refusal(request: Request, server: Server<undefined>): Response | undefined {
    const access = this.options.access;
    const allow = access?.allow;
    if (access === undefined || allow === undefined) return undefined;
    if (new URL(request.url).pathname === "/healthz") return undefined;
    const address = server.requestIP(request);
    if (address !== null && allow.allows(address.address)) return undefined;
    const peer = address === null ? "unknown" : formatPeer(address.address, address.port);
    access.refused(
      METRICS_LISTENER,
      AccessRefusal.AllowFrom,
      peer,
      `not in --allow-from ${allow.toString() || "(empty)"}`,
    );
    return new Response("forbidden: your address is not in --allow-from\n", {
      status: 403,
      headers: TEXT,
    });
  }

  /**
   * The monitor's paths, or undefined to fall through to /metrics and /healthz (and to the
   * 405 for other methods). HEAD gets GET's status and headers (Bun.serve sends no body).
   */
  private monitorResponse(
    request: Request,
    server: Server<undefined>,
  ): Promise<Response> | undefined {
    const monitor = this.monitor;
    if (monitor === undefined || (request.method !== "GET" && request.method !== "HEAD")) {
      return undefined;
    }
    const url = new URL(request.url);
    if (url.pathname === "/metrics" || url.pathname === "/healthz") return undefined;
    const endpoint = { host: this.host, port: this.port, https: this.options.tls !== undefined };
    return monitor
      .respond(request, url, server, endpoint)
      .then((response) => response ?? notFound(true));
  }

  /**
   * SIGHUP with --metrics-tls: serve with a new certificate. Bun.serve's `reload()` swaps
   * handlers but keeps the TLS context (checked on Bun 1.4.5), so the server is stopped
   * (scrapes under way finish) and started again on the same port. If that fails, the old
   * configuration is started again and the error is thrown.
   */
  reloadTls(tls: ListenerTlsOptions): void {
    const port = this.port;
    void this.server.stop(false);
    try {
      this.server = this.serve(port, tls);
      this.options.tls = tls;
    } catch (error) {
      this.server = this.serve(port, this.options.tls);
      throw error;
    }
  }

  /** The bound port (the real one when started with port 0). */
  get port(): number {
    return this.server.port ?? 0;
  }

  /** Where Prometheus should scrape, e.g. `http://127.0.0.1:9464/metrics`. */
  get url(): string {
    const scheme = this.options.tls === undefined ? "http" : "https";
    return `${scheme}://${formatPeer(this.host, this.port)}/metrics`;
  }

  /** Stops listening and closes open scrape connections and event streams. */
  async stop(): Promise<void> {
    this.monitor?.stop();
    await this.server.stop(true);
  }
}

async function respond(
  request: Request,
  registry: Registry,
  isServing: () => boolean,
  clusterState: (() => string) | undefined,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed: use GET\n", {
      status: 405,
      headers: { ...TEXT, allow: "GET, HEAD" },
    });
  }
  const { pathname } = new URL(request.url);
  if (pathname === "/metrics") {
    const body = await registry.metrics();
    return new Response(body, { headers: { "content-type": registry.contentType } });
  }
  if (pathname === "/healthz") {
    const cluster = clusterState?.();
    const headers = cluster === undefined ? TEXT : { ...TEXT, "x-relay-cluster": cluster };
    const tail = cluster === undefined ? "" : `cluster ${cluster}\n`;
    return isServing()
      ? new Response(`ok\n${tail}`, { headers })
      : new Response(`shutting down\n${tail}`, { status: 503, headers });
  }
  return notFound(false);
}

function notFound(monitoring: boolean): Response {
  const paths = monitoring
    ? "/, /metrics, /healthz, /varz, /connz or /subsz"
    : "/metrics or /healthz";
  return new Response(`not found: try ${paths}\n`, { status: 404, headers: TEXT });
}
