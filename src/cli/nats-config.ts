/**
 * The relay's NATS options that depend on others, checked after parsing: which ports a NATS
 * port, credentials or a users file may share the process with, the users file itself (read
 * here, so its errors are bad arguments, exit 2), and the subjects of --subject and
 * --sub-subject. Each refusal is one line naming the flags (badArgument).
 */
import { linePortSubjects, lineUserProblem } from "../relay/line-user.ts";
import { loadUsersFile } from "../relay/nats-users.ts";
import { isValidLiteralSubject, isValidSubject } from "../relay/subjects.ts";
import type { RelayConfig } from "./config.ts";
import { badArgument } from "./option-table.ts";

/** Every NATS check, in order; throws a RelayError (RELAY_ERR_BAD_ARGUMENT) on the first. */
export function checkNatsOptions(config: RelayConfig): void {
  const natsPort = config.natsPort;
  if (
    natsPort !== undefined &&
    natsPort !== 0 &&
    (natsPort === config.pubPort || natsPort === config.subPort)
  ) {
    throw badArgument(`--nats-port ${natsPort} is also the publisher or subscriber port`);
  }
  const wsPort = config.wsPort;
  if (
    wsPort !== undefined &&
    wsPort !== 0 &&
    (wsPort === config.pubPort || wsPort === config.subPort || wsPort === natsPort)
  ) {
    throw badArgument(`--ws-port ${wsPort} is also the publisher, subscriber or NATS port`);
  }
  if (wsPort === undefined && (config.wsAllowedOrigins.length > 0 || config.wsSameOrigin)) {
    throw badArgument(
      `--ws-allowed-origins and --ws-same-origin apply to the WebSocket port: add --ws-port`,
    );
  }
  checkNatsCredentials(config);
  if (!isValidSubject(config.subject) || !isValidLiteralSubject(config.subject)) {
    throw badArgument(
      `--subject '${config.subject}' is not a literal NATS subject (non-empty tokens separated by '.', no whitespace, no wildcard)`,
    );
  }
  if (config.subSubject !== undefined && !isValidSubject(config.subSubject)) {
    throw badArgument(
      `--sub-subject '${config.subSubject}' is not a NATS subject (non-empty tokens separated by '.', no whitespace, '>' only as the last token)`,
    );
  }
  checkLineUser(config);
}

/**
 * --user and --pass go together and exclude --token (nats-server allows one of the two);
 * --users-file excludes all three. Users protect only the NATS port: line and frame clients
 * cannot present one, so the relay refuses to start while their ports are open. The users
 * file is read here, so that its errors are bad arguments (exit 2).
 */
function checkNatsCredentials(config: RelayConfig): void {
  if ((config.user === undefined) !== (config.pass === undefined)) {
    throw badArgument(config.user === undefined ? "--pass needs --user" : "--user needs --pass");
  }
  if (config.usersFile !== undefined) {
    const other = [
      config.user !== undefined ? "--user/--pass" : undefined,
      config.token !== undefined ? "--token" : undefined,
    ].filter((flag) => flag !== undefined);
    if (other.length > 0)
      throw badArgument(`--users-file and ${other.join(" and ")} exclude each other`);
    // --line-user lets line and frame ports act as a user (checkLineUser, once the subjects
    // are known to be valid).
    if (config.lineUser === undefined) requireNatsOnly(config, "--users-file");
    if (config.tlsMapUser && config.tlsClientCa === undefined) {
      throw badArgument(
        "--tls-map-user needs --tls-client-ca (only a verified client certificate can name a user)",
      );
    }
    try {
      config.users = loadUsersFile(config.usersFile);
    } catch (error) {
      throw badArgument((error as Error).message);
    }
    return;
  }
  if (config.tlsMapUser) throw badArgument("--tls-map-user needs --users-file");
  if (config.lineUser !== undefined) throw badArgument("--line-user needs --users-file");
  if (config.user === undefined) return;
  if (config.token !== undefined) throw badArgument("--user/--pass and --token exclude each other");
  requireNatsOnly(config, "--user/--pass");
}

/** --line-user: the user must exist and have the rights the open line/frame ports use. */
function checkLineUser(config: RelayConfig): void {
  if (config.lineUser === undefined || config.users === undefined) return;
  const problem = lineUserProblem(config.users, config.lineUser, linePortSubjects(config));
  if (problem !== undefined) throw badArgument(problem);
}

/** Users protect only the NATS port: refuses open line and frame ports beside `what`. */
function requireNatsOnly(config: RelayConfig, what: string): void {
  const open = [
    config.pubPort !== undefined ? "--pub-port" : undefined,
    config.subPort !== undefined ? "--sub-port" : undefined,
  ].filter((flag) => flag !== undefined);
  if (open.length > 0) {
    const hint = what === "--users-file" ? ", or name their user with --line-user" : "";
    throw badArgument(
      `${what} protect${what.includes("/") ? "" : "s"} only the NATS port: set ${open.join(" and ")} off${hint} (line and frame clients cannot present a user)`,
    );
  }
}
