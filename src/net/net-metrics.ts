/**
 * Prometheus metrics for a mode's listeners (src/net): TLS handshakes and their failures by
 * reason, peers refused at accept, reloads, and the certificate's expiry. Like the relay's own
 * metrics they are read from running totals when Prometheus scrapes, so they cost nothing per
 * connection.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { NetAccess } from "./access.ts";
import { AccessRefusal, HandshakeFailure } from "./net-events.ts";

/**
 * Registers the metrics of `access` in `registry`, every name starting with `prefix`
 * (`bun_relay_`). Every listener and reason is shown from the start, at 0, so `rate()` and
 * `increase()` work before the first event. The TLS families exist only when the mode has
 * TLS (a reload cannot turn it on or off): a plaintext relay has no expiry to alert on.
 */
export function registerNetMetrics(
  registry: Registry,
  access: NetAccess,
  prefix = "bun_relay_",
): void {
  const counters = access.counters;
  if (access.tls !== undefined) registerTlsMetrics(registry, access, prefix);
  new Counter({
    name: `${prefix}access_refused_total`,
    help: "Peers closed at accept by listener and reason: allow_from (not in --allow-from); at their first bytes: tls_client (TLS on a plaintext port), frame_client (frames on a line port), http_client, line_client (text on a frame port), first_bytes_timeout; origin (WebSocket upgrade refused for its Origin, 403).",
    labelNames: ["listener", "reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of [...counters.listeners, ...counters.httpListeners]) {
        for (const reason of Object.values(AccessRefusal)) {
          this.inc({ listener, reason }, counters.get(counters.refused, listener, reason));
        }
      }
    },
  });
  new Counter({
    name: `${prefix}config_reloads_total`,
    help: "SIGHUP reloads of certificates and allow-lists, by result (ok, failed: the old configuration stays).",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "ok" }, counters.reloadsOk);
      this.inc({ result: "failed" }, counters.reloadsFailed);
    },
  });
}

function registerTlsMetrics(registry: Registry, access: NetAccess, prefix: string): void {
  const counters = access.counters;
  new Counter({
    name: `${prefix}tls_handshakes_total`,
    help: "TLS handshakes that succeeded (client certificate verified under --tls-client-ca), by listener.",
    labelNames: ["listener"],
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of counters.listeners) {
        this.inc({ listener }, counters.get(counters.handshakes, listener, "ok"));
      }
    },
  });
  new Counter({
    name: `${prefix}tls_handshake_failures_total`,
    help: "TLS handshakes that failed, by listener and reason (no_cert, unknown_ca, expired, protocol_version, not_tls, timeout, aborted, ...).",
    labelNames: ["listener", "reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of counters.listeners) {
        for (const reason of Object.values(HandshakeFailure)) {
          this.inc(
            { listener, reason },
            counters.get(counters.handshakeFailures, listener, reason),
          );
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}tls_certificate_expiry_timestamp_seconds`,
    help: "When the certificate in use (--tls-cert) expires, in Unix seconds (reloads update it).",
    registers: [registry],
    collect() {
      const tls = access.tls;
      if (tls !== undefined) this.set(Math.floor(tls.notAfter.getTime() / 1000));
    },
  });
}
