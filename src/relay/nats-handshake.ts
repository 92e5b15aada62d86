/**
 * The CONNECT handshake of one NATS client: the auth timeout, the check of CONNECT's
 * credentials (a password, a token, a bcrypt hash checked off the event loop, or with
 * --tls-map-user the verified client certificate) and the user that admits, as nats-server
 * does (server/client.go processConnect, server/auth.go). Apart from the connection because
 * it runs once per client, before any PUB or SUB; the connection keeps the options CONNECT
 * sets, which its per-message paths read.
 */
import { CloseReason } from "../errors.ts";
import { NATS_ERR, type NatsErr } from "../protocol/nats-errors.ts";
import type { NatsParser } from "../protocol/nats-parser.ts";
import type { Admission } from "./nats-auth.ts";
import { certificateNames } from "./nats-cert-user.ts";
import { type ConnectOptions, isRefusal, readConnect } from "./nats-connect.ts";
import type { NatsHost, NatsSocket } from "./nats-connection.ts";
import type { UserPermissions } from "./nats-permissions.ts";

/** Who CONNECT's credentials admitted. */
export interface AdmittedUser {
  /** For logs and /connz; never a password. Undefined when the credentials name nobody. */
  name: string | undefined;
  /** --users-file: the user's rights as admitted (a reload does not change them); undefined: all. */
  permissions: UserPermissions | undefined;
}

/** What the handshake needs of the connection it admits (NatsConnection). */
export interface HandshakeParty {
  readonly socket: NatsSocket;
  readonly parser: NatsParser;
  /** True once the connection failed or is closing: a late bcrypt verdict is dropped. */
  readonly closing: boolean;
  /** Sends `-ERR` (if any) and closes once it is written. */
  fail(err: NatsErr | undefined, reason: CloseReason, detail: string): void;
  /** CONNECT passed: applies its options; `user` when credentials were checked. */
  admitted(options: ConnectOptions, user?: AdmittedUser): void;
  /** Reads on after a bcrypt check: what arrived meanwhile is parsed, replies flushed. */
  resumeReading(): void;
}

export class NatsHandshake {
  /** A CONNECT's bcrypt check is under way: the socket stays paused, whatever pacing says. */
  pending = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly party: HandshakeParty,
    private readonly host: NatsHost,
  ) {}

  /** With credentials required: closes the client unless a CONNECT passes in --auth-timeout. */
  start(): void {
    const { config, auth } = this.host;
    if (!auth.required) return;
    this.timer = setTimeout(() => {
      this.party.fail(
        NATS_ERR.authenticationTimeout,
        CloseReason.AuthTimeout,
        "no CONNECT with credentials",
      );
      this.host.router.flush();
    }, config.authTimeout * 1000);
  }

  /** The timeout no longer applies (admitted, failed or closed). */
  stop(): void {
    clearTimeout(this.timer);
  }

  /**
   * A CONNECT: refused (and the client closed) for options nats-server refuses
   * (nats-connect.ts) or credentials that admit nobody; otherwise its options apply.
   */
  connect(json: Uint8Array): void {
    const party = this.party;
    const options = readConnect(json);
    if (isRefusal(options)) {
      party.fail(options.err, CloseReason.ProtocolError, options.detail);
      return;
    }
    const auth = this.host.auth;
    if (!auth.required) {
      party.admitted(options);
      return;
    }
    if (this.host.config.tlsMapUser) {
      // verify_and_map: the verified certificate decides; CONNECT's user/pass are not used.
      const names = certificateNames(party.socket.getPeerCertificate() ?? undefined);
      this.authorized(options, auth.byCertificate(names), "the client certificate names no user");
      return;
    }
    const verdict = auth.check(options.credentials);
    if (!(verdict instanceof Promise)) {
      this.authorized(options, verdict);
      return;
    }
    // A bcrypt check off the event loop: nothing after this CONNECT is read until it answers.
    this.pending = true;
    party.parser.suspend();
    party.socket.pause();
    void verdict.then((admission) => {
      this.pending = false;
      if (party.closing) return;
      this.authorized(options, admission);
      party.resumeReading();
    });
  }

  private authorized(
    options: ConnectOptions,
    admission: Admission | undefined,
    refusal = "wrong credentials in CONNECT",
  ): void {
    if (admission === undefined) {
      this.host.hub.counters.authFailures++;
      this.party.fail(NATS_ERR.authorizationViolation, CloseReason.AuthFailed, refusal);
      return;
    }
    // --user admits everyone with one name: the one CONNECT sent (a token names nobody).
    const sent = options.credentials.user;
    const single = this.host.config.user !== undefined && typeof sent === "string";
    const name = admission.user ?? (single ? sent : undefined);
    this.party.admitted(options, { name, permissions: admission.permissions });
  }
}
