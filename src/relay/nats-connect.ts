/**
 * A NATS client's CONNECT options (nats-server client.go `clientOpts`, processConnect): what
 * the relay reads of the JSON, with nats-server's defaults. Pure: the connection applies them.
 */
import { NATS_ERR, type NatsErr } from "../protocol/nats-errors.ts";
import type { ConnectCredentials } from "./nats-auth.ts";

const utf8 = new TextDecoder();

/** The options of one CONNECT; a field the client left out is undefined (keep the current). */
export interface ConnectOptions {
  verbose: boolean | undefined;
  pedantic: boolean | undefined;
  echo: boolean | undefined;
  /** HPUB/HMSG support; absent means false (nats-server `headers`). */
  headers: boolean;
  /** A 503 HMSG for a request nobody answers; needs `headers`. */
  noResponders: boolean;
  name: string | undefined;
  credentials: ConnectCredentials;
}

/** Why a CONNECT is refused: the -ERR to send (none for a JSON that does not parse) and why. */
export interface ConnectRefusal {
  err: NatsErr | undefined;
  detail: string;
}

/**
 * Reads CONNECT's JSON. Refused, as nats-server: a JSON that is not an object (closed with no
 * -ERR), `protocol` other than 0 or 1 ('invalid client protocol'), `no_responders` without
 * `headers` ('no responders requires headers support'); all of these close the connection.
 */
export function readConnect(json: Uint8Array): ConnectOptions | ConnectRefusal {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(utf8.decode(json)) as Record<string, unknown>;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("no object");
  } catch {
    return { err: undefined, detail: "CONNECT is not a JSON object" };
  }
  if (raw.protocol !== undefined && raw.protocol !== 0 && raw.protocol !== 1) {
    return { err: NATS_ERR.badClientProtocol, detail: "invalid client protocol" };
  }
  const options: ConnectOptions = {
    verbose: typeof raw.verbose === "boolean" ? raw.verbose : undefined,
    pedantic: typeof raw.pedantic === "boolean" ? raw.pedantic : undefined,
    echo: typeof raw.echo === "boolean" ? raw.echo : undefined,
    headers: raw.headers === true,
    noResponders: raw.no_responders === true,
    name: typeof raw.name === "string" ? raw.name : undefined,
    credentials: raw as ConnectCredentials,
  };
  if (options.noResponders && !options.headers) {
    return { err: NATS_ERR.noRespondersRequiresHeaders, detail: "no_responders without headers" };
  }
  return options;
}

/** True for a refusal from readConnect. */
export function isRefusal(result: ConnectOptions | ConnectRefusal): result is ConnectRefusal {
  return "detail" in result;
}
