/**
 * What the listeners of src/net report: refused peers, failed TLS handshakes, configuration
 * loads and reloads. Each mode passes these to its own log (the relay's RelayEvent includes
 * them); `formatNetEvent` is the one text form.
 */

/** Why a TLS handshake failed; the `reason` label of bun_relay_tls_handshake_failures_total. */
export const HandshakeFailure = {
  /** Mutual TLS: the client sent no certificate. */
  NoCert: "no_cert",
  /** Mutual TLS: the client's certificate is not signed by --tls-client-ca. */
  UnknownCa: "unknown_ca",
  /** Mutual TLS: the client's certificate has expired. */
  Expired: "expired",
  /** Mutual TLS: the client's certificate is not valid yet. */
  NotYetValid: "not_yet_valid",
  /** Mutual TLS: any other problem with the client's certificate (revoked, wrong purpose). */
  BadCert: "bad_cert",
  /** The client offered only TLS 1.1 or older (1.2 is the minimum), or no common version. */
  ProtocolVersion: "protocol_version",
  /** The first bytes were not a TLS ClientHello: a plaintext client, HTTP, or garbage. */
  NotTls: "not_tls",
  /** The handshake did not finish within --handshake-timeout. */
  Timeout: "timeout",
  /** The client closed or reset before the handshake finished (port scanners, probes). */
  Aborted: "aborted",
  /** Anything else (no shared cipher, a bad record); the log line has OpenSSL's words. */
  Other: "other",
} as const;
export type HandshakeFailure = (typeof HandshakeFailure)[keyof typeof HandshakeFailure];

/**
 * Why a peer was closed at accept: before the mode saw it (allow_from), or at its first bytes
 * (src/net/first-bytes.ts: the others), before any of them reached the mode. The `reason` of
 * access_refused and of bun_relay_access_refused_total.
 */
export const AccessRefusal = {
  /** Its address is in no --allow-from range. */
  AllowFrom: "allow_from",
  /** It sent a TLS ClientHello to a plaintext port (the mode has no --tls-cert). */
  TlsClient: "tls_client",
  /** A seed 003 frame (Conn or Submit) on a line port: a client set to --framing frame. */
  FrameClient: "frame_client",
  /** A whole HTTP/1.x request line (`GET / HTTP/1.1`) on a line or frame port. */
  HttpClient: "http_client",
  /** Printable text where a frame port expects a frame's length: a line client. */
  LineClient: "line_client",
  /**
   * Its first bytes were still the start of a TLS record header (or, on a frame port, of a
   * text length) when the bound (first-bytes.ts FIRST_BYTES_BOUND_MS) passed or it closed.
   */
  FirstBytesTimeout: "first_bytes_timeout",
  /**
   * WebSocket port: the upgrade's Origin is refused by --ws-allowed-origins or --ws-same-origin
   * (answered 403, as nats-server's websocket.go checkOrigin).
   */
  Origin: "origin",
} as const;
export type AccessRefusal = (typeof AccessRefusal)[keyof typeof AccessRefusal];

export type NetEvent =
  | {
      /**
       * A TLS handshake failed. Rate-limited per listener and reason: the first is reported at
       * once, later ones at most once a second with `count` saying how many the line stands
       * for (`peer` and `detail` are the last one's).
       */
      type: "tls_handshake_failed";
      listener: string;
      reason: HandshakeFailure;
      peer: string;
      count: number;
      detail: string;
    }
  | {
      /** A peer closed at accept; rate-limited like tls_handshake_failed. */
      type: "access_refused";
      listener: string;
      reason: AccessRefusal;
      peer: string;
      count: number;
      detail: string;
    }
  | {
      /** At start and after each reload: what the listeners now use. */
      type: "access_config";
      /** `CN=relay, expires 2027-01-01T00:00:00.000Z, SHA-256 AB:CD:…` or undefined (plaintext). */
      tls: string | undefined;
      /** Mutual TLS: the --tls-client-ca file. */
      clientCa: string | undefined;
      /** --allow-from ranges, comma-separated, or undefined (everyone). */
      allowFrom: string | undefined;
      /** Problems that do not stop it (an expired certificate). */
      warnings: string[];
    }
  | {
      /** SIGHUP: the configuration was reloaded, or not (`detail` says why; the old one stays). */
      type: "reload";
      ok: boolean;
      detail: string;
      /** A failed reload with other parts that did apply (src/cli/reload-line.ts): those. */
      applied?: string;
    };

/**
 * The reason for a failed handshake, from Bun's `handshake(socket, success, error)`:
 * error.code is an X.509 verification code (CERT_HAS_EXPIRED) or EPROTO with OpenSSL's
 * reason in the message (PEER_DID_NOT_RETURN_A_CERTIFICATE, WRONG_VERSION_NUMBER).
 */
export function classifyHandshakeError(error: Error | null | undefined): HandshakeFailure {
  if (!error) return HandshakeFailure.Other;
  const code = (error as { code?: string }).code ?? "";
  const text = `${code} ${error.message ?? ""}`;
  if (code === "ECONNRESET" || /disconnected before secure TLS/.test(text)) {
    return HandshakeFailure.Aborted;
  }
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|CERTIFICATE_REQUIRED/.test(text)) {
    return HandshakeFailure.NoCert;
  }
  if (/CERT_HAS_EXPIRED|CERTIFICATE_EXPIRED/.test(text)) return HandshakeFailure.Expired;
  if (/CERT_NOT_YET_VALID/.test(text)) return HandshakeFailure.NotYetValid;
  if (
    /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|UNKNOWN_CA/.test(
      text,
    )
  ) {
    return HandshakeFailure.UnknownCa;
  }
  if (/^CERT_|_CERT_|INVALID_PURPOSE|CERT_REVOKED|CERTIFICATE/.test(text)) {
    return HandshakeFailure.BadCert;
  }
  if (
    /UNSUPPORTED_PROTOCOL|WRONG_SSL_VERSION|PROTOCOL_VERSION|NO_SUPPORTED_VERSIONS|VERSION_TOO_LOW/.test(
      text,
    )
  ) {
    return HandshakeFailure.ProtocolVersion;
  }
  if (
    /WRONG_VERSION_NUMBER|HTTP_REQUEST|HTTPS_PROXY_REQUEST|PACKET_LENGTH_TOO_LONG|RECORD_LENGTH_MISMATCH|UNEXPECTED_RECORD|UNEXPECTED_MESSAGE|DECODE_ERROR|BAD_PACKET|EXCESSIVE_MESSAGE_SIZE/.test(
      text,
    )
  ) {
    return HandshakeFailure.NotTls;
  }
  return HandshakeFailure.Other;
}

/** A short human detail for a failed handshake (OpenSSL's reason, without its prefix). */
export function handshakeDetail(reason: HandshakeFailure, error: Error | null | undefined): string {
  const raw = error?.message ?? "";
  const openssl = /OPENSSL_internal:([A-Z_0-9]+)/.exec(raw)?.[1];
  const why = openssl ?? raw;
  switch (reason) {
    case HandshakeFailure.NoCert:
      return "the client sent no certificate, which --tls-client-ca requires";
    case HandshakeFailure.UnknownCa:
      return `the client certificate is not signed by --tls-client-ca: ${why}`;
    case HandshakeFailure.Expired:
      return "the client certificate has expired";
    case HandshakeFailure.NotYetValid:
      return "the client certificate is not valid yet";
    case HandshakeFailure.ProtocolVersion:
      return `no common TLS version, 1.2 being the minimum: ${why}`;
    case HandshakeFailure.NotTls:
      return `not a TLS ClientHello, so a plaintext client or garbage: ${why}`;
    default:
      return why || "unknown";
  }
}

/** The text of a net event: one line, without a timestamp. */
export function formatNetEvent(event: NetEvent): string {
  switch (event.type) {
    case "tls_handshake_failed":
    case "access_refused": {
      const tag = event.type === "access_refused" ? "REFUSED" : "TLS_FAILED";
      if (event.count === 1) {
        return `${tag} ${event.listener} ${event.peer} reason=${event.reason} (${event.detail})`;
      }
      return `${tag} ${event.listener} reason=${event.reason}: ${event.count} more in the last second (last ${event.peer}: ${event.detail})`;
    }
    case "access_config": {
      const parts = [
        event.tls === undefined ? "TLS off (plaintext)" : `TLS on: certificate ${event.tls}`,
      ];
      if (event.clientCa !== undefined) {
        parts.push(`client certificates required (--tls-client-ca ${event.clientCa})`);
      }
      parts.push(
        event.allowFrom === undefined
          ? "every address may connect"
          : `--allow-from ${event.allowFrom}`,
      );
      const warnings = event.warnings.map((warning) => `; WARNING ${warning}`).join("");
      return `ACCESS ${parts.join("; ")}${warnings}`;
    }
    case "reload":
      return event.ok
        ? `RELOAD ${event.detail}`
        : `RELOAD failed: ${event.detail}; keeping the previous configuration${event.applied === undefined ? "" : ` | applied: ${event.applied}`}`;
  }
}

/** `warn` for what refused or failed, `info` otherwise. */
export function netEventLevel(event: NetEvent): "info" | "warn" {
  switch (event.type) {
    case "access_config":
      return event.warnings.length > 0 ? "warn" : "info";
    case "reload":
      return event.ok ? "info" : "warn";
    default:
      return "warn";
  }
}

/**
 * Rate limiting for refusal and failure lines: per key (listener + reason), the first event
 * goes out at once; events in the next `intervalMs` are only counted, and one line with the
 * count (and the last peer) goes out when the interval ends. So a scanner or a flood costs at
 * most one line per second per key, and nothing is hidden from the counters.
 */
export class EventThrottle {
  private readonly windows = new Map<
    string,
    { count: number; last: Extract<NetEvent, { count: number }> }
  >();

  constructor(
    private readonly emit: (event: NetEvent) => void,
    private readonly intervalMs = 1000,
  ) {}

  report(event: Extract<NetEvent, { count: number }>): void {
    const key = `${event.type}\t${event.listener}\t${event.reason}`;
    const window = this.windows.get(key);
    if (window) {
      window.count++;
      window.last = event;
      return;
    }
    this.emit(event);
    this.open(key, event);
  }

  private open(key: string, event: Extract<NetEvent, { count: number }>): void {
    this.windows.set(key, { count: 0, last: event });
    const timer = setTimeout(() => {
      const window = this.windows.get(key);
      this.windows.delete(key);
      if (window && window.count > 0) {
        this.emit({ ...window.last, count: window.count });
        this.open(key, window.last);
      }
    }, this.intervalMs);
    timer.unref?.();
  }
}
