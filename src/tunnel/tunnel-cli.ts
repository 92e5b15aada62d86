/**
 * Runs `bun-relay tunnel client …` or `… tunnel server …` until SIGINT/SIGTERM.
 * src/main.ts loads this module only for `tunnel` and exits with the status returned here.
 *
 * Shutdown: the first signal stops accepting and lets open connections finish for
 * --shutdown-timeout, then closes the rest (reason shutdown) and the sessions; a second
 * signal closes everything at once.
 *
 * Access (issue 14): --tls-cert/--tls-client-ca/--allow-from… apply to the --listen port of
 * either role (src/net); the client's --server-tls/--server-ca/--server-servername/
 * --server-cert/--server-key to its session dials. SIGHUP reloads the listener's files
 * (certificate, client CA, --allow-from-file); established sessions and connections stay.
 * The dial side's files are read once, at start.
 */
import { readFileSync } from "node:fs";
import type { TLSOptions } from "bun";
import type { EventLine } from "../cli/mode-log.ts";
import { runStreamMode, type StreamMode } from "../cli/mode-runner.ts";
import { NET_LIVE_FLAGS } from "../cli/reload.ts";
import { ErrorCode, RelayError } from "../errors.ts";
import type { MuxConfig } from "../mux/index.ts";
import type { NetAccess } from "../net/access.ts";
import { checkKeyMatches, leafCertificate } from "../net/tls-config.ts";
import { TunnelClient } from "./tunnel-client.ts";
import {
  parseTunnelCommandLine,
  specsFor,
  type TunnelConfig,
  tunnelHelpText,
} from "./tunnel-config.ts";
import { tunnelLogger } from "./tunnel-log.ts";
import { createTunnelMetricsRegistry } from "./tunnel-metrics.ts";
import { TunnelServer } from "./tunnel-server.ts";

/**
 * Starts the side a config describes. Throws a RelayError when it cannot start. `access`:
 * TLS and --allow-from of the --listen port (NetAccess.load); none: plaintext, open to all.
 */
export function startTunnel(
  config: TunnelConfig,
  mux: MuxConfig,
  line: EventLine,
  access?: NetAccess,
): TunnelClient | TunnelServer {
  let running: TunnelClient | TunnelServer | undefined;
  const emit = tunnelLogger({
    // A getter: --quiet changes on reload.
    get quiet() {
      return config.quiet;
    },
    line,
    sessions: () => (running as TunnelClient | TunnelServer).sessionStats(),
  });
  const common = {
    ...(access === undefined ? {} : { access }),
    listenHost: config.listen.host,
    listenPort: config.listen.port,
    config: mux,
    connectTimeout: config.connectTimeout,
    idleTimeout: config.idleTimeout,
    halfCloseTimeout: config.halfCloseTimeout,
    maxConns: config.maxConns,
    statsInterval: config.statsInterval,
    reusePort: config.reusePort,
  };
  if (config.role === "client") {
    const server = config.server as { host: string; port: number };
    running = new TunnelClient(
      {
        ...common,
        serverHost: server.host,
        serverPort: server.port,
        conns: config.conns,
        ...(config.serverTls ? { serverTls: loadServerTls(config) } : {}),
      },
      emit,
    );
  } else {
    const to = config.to as { host: string; port: number };
    running = new TunnelServer({ ...common, targetHost: to.host, targetPort: to.port }, emit);
  }
  return running;
}

/** What a tunnel reads again on SIGHUP with --config; the rest needs a restart. */
const TUNNEL_LIVE_FLAGS = new Set<string>([...NET_LIVE_FLAGS, "quiet", "max-conns"]);

/** `tunnel client` or `tunnel server` for the shared runner. */
function tunnelMode(command: string): StreamMode<TunnelConfig, TunnelClient | TunnelServer> {
  let mux: MuxConfig | undefined;
  const role = command === "tunnel client" ? "client" : "server";
  return {
    command,
    specs: specsFor(role),
    live: TUNNEL_LIVE_FLAGS,
    parse(argv, env) {
      const parsed = parseTunnelCommandLine(argv, env);
      if (parsed.kind === "help") return { kind: "help", text: tunnelHelpText(parsed.role) };
      mux ??= parsed.mux; // a reload keeps the sessions' settings
      return { kind: "run", config: parsed.config, ...parsed.options };
    },
    preflight(config) {
      if (config.serverTls) loadServerTls(config);
    },
    start: (config, write, access) => startTunnel(config, mux as MuxConfig, write, access),
    registry: (running) => createTunnelMetricsRegistry(running),
    drain: (running, config) => running.shutdown(config.shutdownTimeout),
    applyLive(running, config) {
      running.table.settings.maxConns = config.maxConns;
    },
  };
}

/** Parses, starts, and resolves with the exit status once a signal has stopped the tunnel. */
export function runTunnelMode(argv: readonly string[]): Promise<number> {
  const role = argv[1] === "client" || argv[1] === "server" ? argv[1] : "";
  return runStreamMode(tunnelMode(`tunnel ${role}`), argv);
}

function readPem(flag: string, file: string, marker: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const why = (error as { code?: string }).code ?? (error as Error).message;
    throw new RelayError(ErrorCode.BadArgument, `${flag} ${file}: cannot read the file (${why})`);
  }
  if (!text.includes(marker)) {
    throw new RelayError(ErrorCode.BadArgument, `${flag} ${file}: no PEM ${marker} in the file`);
  }
  return text;
}

/**
 * tunnel client --server-tls: Bun's TLS options for the session dials, the files read now so
 * that a bad one is a one-line error at start. The server is verified against the system
 * store or --server-ca (connectSession refuses a certificate that does not verify).
 */
export function loadServerTls(config: TunnelConfig): TLSOptions {
  const tls: TLSOptions = { rejectUnauthorized: true };
  if (config.serverCa !== undefined) {
    tls.ca = readPem("--server-ca", config.serverCa, "-----BEGIN CERTIFICATE-----");
  }
  if (config.serverServername !== undefined) tls.serverName = config.serverServername;
  if (config.serverCert !== undefined && config.serverKey !== undefined) {
    const cert = readPem("--server-cert", config.serverCert, "-----BEGIN CERTIFICATE-----");
    const key = readPem("--server-key", config.serverKey, "PRIVATE KEY-----");
    // A pair that does not match fails here (start, --check), not at every dial.
    try {
      checkKeyMatches(
        {
          flag: "--server-cert",
          path: config.serverCert,
          certificate: leafCertificate("--server-cert", config.serverCert, cert),
        },
        { flag: "--server-key", path: config.serverKey, text: key },
      );
    } catch (error) {
      throw new RelayError(ErrorCode.BadArgument, (error as Error).message);
    }
    tls.cert = cert;
    tls.key = key;
  }
  return tls;
}
