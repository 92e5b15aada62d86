/**
 * `--line-user NAME`: line and frame clients present no user, so with --users-file their
 * ports act under one named user. The choice is the simplest that stays correct: the rights
 * are checked once, against the subjects those ports use (they never change while the relay
 * runs), instead of per message:
 *
 * - an open publisher port needs the user's publish right on --subject;
 * - an open subscriber port needs its subscribe right on --sub-subject (no queue), and
 *   --sub-subject must not cover a subscribe-deny rule: nats-server would then filter the
 *   denied subjects out of that subscription's deliveries, which the line/frame fan-out does
 *   not do, so such a pattern is refused rather than leaking those subjects.
 *
 * The relay refuses to start when a check fails (config.ts), and a SIGHUP whose new users file
 * fails it keeps the old users (nats-port.ts reloadUsers).
 */
import { UserPermissions } from "./nats-permissions.ts";
import type { NatsUser } from "./nats-users.ts";

/** The subjects the open line/frame ports use; undefined for a port that is off. */
export interface LinePortSubjects {
  /** --subject, when the publisher port is open. */
  readonly publish: string | undefined;
  /** --sub-subject (or --subject), when the subscriber port is open. */
  readonly subscribe: string | undefined;
}

/**
 * Why `lineUser` cannot serve the line/frame ports with these `users`, as one line naming the
 * flag and the subject; undefined when it can.
 */
export function lineUserProblem(
  users: readonly NatsUser[],
  lineUser: string,
  subjects: LinePortSubjects,
): string | undefined {
  const user = users.find((entry) => entry.user === lineUser);
  if (user === undefined) return `--line-user '${lineUser}' is not a user of --users-file`;
  if (user.permissions === undefined) return undefined;
  const rights = new UserPermissions(user.permissions);
  if (subjects.publish !== undefined && !rights.canPublish(subjects.publish)) {
    return `--line-user '${lineUser}' may not publish to --subject '${subjects.publish}' (line and frame publishers act as that user)`;
  }
  const pattern = subjects.subscribe;
  if (pattern === undefined) return undefined;
  if (!rights.canSubscribe(pattern, undefined)) {
    return `--line-user '${lineUser}' may not subscribe to --sub-subject '${pattern}' (line and frame subscribers act as that user)`;
  }
  if (rights.needsDenyFilter(pattern)) {
    return `--sub-subject '${pattern}' covers a subject --line-user '${lineUser}' is denied (line and frame subscribers cannot filter it out): narrow --sub-subject`;
  }
  return undefined;
}

/** The subjects `config`'s open line/frame ports use. */
export function linePortSubjects(config: {
  pubPort: number | undefined;
  subPort: number | undefined;
  subject: string;
  subSubject: string | undefined;
}): LinePortSubjects {
  return {
    publish: config.pubPort === undefined ? undefined : config.subject,
    subscribe: config.subPort === undefined ? undefined : (config.subSubject ?? config.subject),
  };
}
