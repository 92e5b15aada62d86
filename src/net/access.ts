/**
 * A mode's access configuration, shared by all of its listeners: TLS (certificate, key,
 * optional client CA for mutual TLS), the --allow-from list, the handshake timeout, the
 * counters the metrics read, and the event sink the log reads.
 *
 * `reload()` (SIGHUP) reads every file again. If anything is wrong, nothing changes and the
 * reason is reported; otherwise every listener gets the new allow-list at once and, when the
 * TLS files changed, a new listening socket with the new certificate (see listener.ts: the
 * old one stops accepting, its established connections stay).
 */
import { readFileSync } from "node:fs";
import { AllowList, parseAllowListText } from "./cidr.ts";
import {
  type AccessRefusal,
  EventThrottle,
  type HandshakeFailure,
  type NetEvent,
} from "./net-events.ts";
import { type LoadedTls, loadTls, TlsConfigError } from "./tls-config.ts";

/** The flags every mode with listeners shares (rows in src/net/net-options.ts). */
export interface NetOptions {
  /** --tls-cert: PEM certificate (and chain); with --tls-key, the listeners speak TLS. */
  tlsCert: string | undefined;
  /** --tls-key: PEM private key of --tls-cert. */
  tlsKey: string | undefined;
  /** --tls-client-ca: mutual TLS, clients need a certificate signed by this CA. */
  tlsClientCa: string | undefined;
  /** --allow-from: CIDR ranges peers must be in (empty: everyone). */
  allowFrom: string[];
  /** --allow-from-file: more ranges, one per line, read again on SIGHUP. */
  allowFromFile: string | undefined;
  /** --handshake-timeout: seconds a TLS client has to finish its handshake. */
  handshakeTimeout: number;
}

export const DEFAULT_NET_OPTIONS: Readonly<NetOptions> = {
  tlsCert: undefined,
  tlsKey: undefined,
  tlsClientCa: undefined,
  allowFrom: [],
  allowFromFile: undefined,
  handshakeTimeout: 10,
};

/** An access configuration that cannot be loaded; the message is one line. */
export class AccessConfigError extends Error {
  override readonly name = "AccessConfigError";
}

/** The flag combinations that make no sense, as one-line messages (undefined: fine). */
export function checkNetOptions(options: NetOptions): string | undefined {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    return options.tlsCert === undefined
      ? "--tls-key needs --tls-cert"
      : "--tls-cert needs --tls-key";
  }
  if (options.tlsClientCa !== undefined && options.tlsCert === undefined) {
    return "--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)";
  }
  return undefined;
}

/** Running totals for the metrics; keys are `listener\treason`. */
export class NetCounters {
  readonly handshakeFailures = new Map<string, number>();
  readonly refused = new Map<string, number>();
  /** Successful TLS handshakes per listener. */
  readonly handshakes = new Map<string, number>();
  reloadsOk = 0;
  reloadsFailed = 0;
  /** Every listener name seen, so metrics can show zeros before the first event. */
  readonly listeners = new Set<string>();
  /**
   * HTTP endpoints that apply --allow-from per request (the relay's metrics port): in
   * access_refused_total with the listeners, not in the TLS handshake families (their
   * handshakes are Bun.serve's, not counted).
   */
  readonly httpListeners = new Set<string>();

  add(map: Map<string, number>, listener: string, reason: string): void {
    const key = `${listener}\t${reason}`;
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  /** The count for one listener and reason (0 when none). */
  get(map: Map<string, number>, listener: string, reason: string): number {
    return map.get(`${listener}\t${reason}`) ?? 0;
  }
}

/** What a listener needs from its access configuration to take a reload. */
export interface ReloadableListener {
  /** Opens a listening socket with `tls` beside the current one; returns how to commit. */
  prepareTls(tls: LoadedTls): { commit(): void; abort(): void };
}

function loadAllowList(options: NetOptions): AllowList | undefined {
  const texts = [...options.allowFrom];
  if (options.allowFromFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.allowFromFile, "utf8");
    } catch (error) {
      const why = (error as { code?: string }).code ?? (error as Error).message;
      throw new AccessConfigError(
        `--allow-from-file ${options.allowFromFile}: cannot read the file (${why})`,
      );
    }
    try {
      texts.push(...parseAllowListText(text));
    } catch (error) {
      throw new AccessConfigError(
        `--allow-from-file ${options.allowFromFile}: ${(error as Error).message}`,
      );
    }
  }
  if (texts.length === 0 && options.allowFromFile === undefined) return undefined;
  try {
    return AllowList.parse(texts);
  } catch (error) {
    throw new AccessConfigError(`--allow-from: ${(error as Error).message}`);
  }
}

function loadTlsFrom(options: NetOptions): LoadedTls | undefined {
  if (options.tlsCert === undefined || options.tlsKey === undefined) return undefined;
  try {
    return loadTls({ cert: options.tlsCert, key: options.tlsKey, clientCa: options.tlsClientCa });
  } catch (error) {
    if (error instanceof TlsConfigError) throw new AccessConfigError(error.message);
    throw error;
  }
}

function describeTls(tls: LoadedTls): string {
  return `${tls.subject}, expires ${tls.notAfter.toISOString()}, SHA-256 ${tls.fingerprint}`;
}

function sameTls(a: LoadedTls, b: LoadedTls): boolean {
  return (
    a.options.cert === b.options.cert &&
    a.options.key === b.options.key &&
    a.options.ca === b.options.ca
  );
}

export class NetAccess {
  readonly counters = new NetCounters();
  private readonly throttle: EventThrottle;
  private readonly listeners = new Set<ReloadableListener>();

  private constructor(
    private readonly options: NetOptions,
    private tlsNow: LoadedTls | undefined,
    private allowNow: AllowList | undefined,
    readonly emit: (event: NetEvent) => void,
  ) {
    this.throttle = new EventThrottle(emit);
  }

  /**
   * Reads the files the options name. Does not report anything: call `announce()` once the
   * listeners are up.
   * @throws AccessConfigError with a one-line message naming the file and the problem.
   */
  static load(options: NetOptions, emit: (event: NetEvent) => void = () => {}): NetAccess {
    const problem = checkNetOptions(options);
    if (problem !== undefined) throw new AccessConfigError(problem);
    return new NetAccess(options, loadTlsFrom(options), loadAllowList(options), emit);
  }

  /** No TLS and no allow-list: every peer, in plaintext (the default). */
  static open(emit: (event: NetEvent) => void = () => {}): NetAccess {
    return new NetAccess({ ...DEFAULT_NET_OPTIONS }, undefined, undefined, emit);
  }

  /** The TLS material listeners use now; undefined: plaintext. */
  get tls(): LoadedTls | undefined {
    return this.tlsNow;
  }

  /** The allow-list now; undefined: every address may connect. */
  get allow(): AllowList | undefined {
    return this.allowNow;
  }

  get handshakeTimeoutMs(): number {
    return this.options.handshakeTimeout * 1000;
  }

  /** True when something restricts who may connect (TLS client certificates or addresses). */
  get restricted(): boolean {
    return this.allowNow !== undefined || this.tlsNow?.mutual === true;
  }

  /** `name`: the listener's label in the handshake and refusal metrics (none: not counted). */
  register(listener: ReloadableListener, name?: string): void {
    this.listeners.add(listener);
    if (name !== undefined) this.counters.listeners.add(name);
  }

  unregister(listener: ReloadableListener): void {
    this.listeners.delete(listener);
  }

  /** Reports the configuration in force (at start; reload reports its own). */
  announce(): void {
    this.emit(this.configEvent());
  }

  handshakeFailed(listener: string, reason: HandshakeFailure, peer: string, detail: string): void {
    this.counters.add(this.counters.handshakeFailures, listener, reason);
    // Probes and port scanners connect and leave: counted, not logged.
    if (reason === "aborted") return;
    this.throttle.report({
      type: "tls_handshake_failed",
      listener,
      reason,
      peer,
      count: 1,
      detail,
    });
  }

  handshakeSucceeded(listener: string): void {
    this.counters.add(this.counters.handshakes, listener, "ok");
  }

  refused(listener: string, reason: AccessRefusal, peer: string, detail: string): void {
    this.counters.add(this.counters.refused, listener, reason);
    this.throttle.report({ type: "access_refused", listener, reason, peer, count: 1, detail });
  }

  /**
   * Reads the TLS files and the allow-list file again and applies them to every listener.
   * A file that cannot be used leaves everything as it was. Established connections are
   * never closed, whatever the new allow-list says. Returns true when the new configuration
   * is in force.
   */
  reload(): boolean {
    let tls: LoadedTls | undefined;
    let allow: AllowList | undefined;
    try {
      tls = loadTlsFrom(this.options);
      allow = loadAllowList(this.options);
    } catch (error) {
      return this.reloadFailed((error as Error).message);
    }
    const changes: string[] = [];
    if (tls !== undefined && this.tlsNow !== undefined && !sameTls(tls, this.tlsNow)) {
      const prepared: { commit(): void; abort(): void }[] = [];
      try {
        for (const listener of this.listeners) prepared.push(listener.prepareTls(tls));
      } catch (error) {
        for (const step of prepared) step.abort();
        return this.reloadFailed(
          `cannot listen with the new certificate (${(error as Error).message})`,
        );
      }
      for (const step of prepared) step.commit();
      this.tlsNow = tls;
      changes.push(`certificate ${describeTls(tls)}`);
    } else if (tls !== undefined) {
      changes.push("certificate unchanged");
    }
    if (this.options.allowFromFile !== undefined || this.options.allowFrom.length > 0) {
      changes.push(`--allow-from ${allow?.toString() || "(none: nobody may connect)"}`);
    }
    this.allowNow = allow;
    this.counters.reloadsOk++;
    const warnings = tls?.warnings.length ? `; WARNING ${tls.warnings.join("; ")}` : "";
    this.emit({
      type: "reload",
      ok: true,
      detail: `${changes.join("; ") || "nothing to reload"}${warnings}`,
    });
    return true;
  }

  private reloadFailed(why: string): false {
    this.counters.reloadsFailed++;
    this.emit({ type: "reload", ok: false, detail: why });
    return false;
  }

  private configEvent(): NetEvent {
    return {
      type: "access_config",
      tls: this.tlsNow === undefined ? undefined : describeTls(this.tlsNow),
      clientCa: this.tlsNow?.mutual ? this.tlsNow.files.clientCa : undefined,
      allowFrom: this.allowNow === undefined ? undefined : this.allowNow.toString() || "(none)",
      warnings: [...(this.tlsNow?.warnings ?? [])],
    };
  }
}
