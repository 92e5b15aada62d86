/**
 * Which member of a queue group gets a message. The index returns every member of each group
 * (MatchResult.queues); the router delivers each message to exactly one of them.
 *
 * nats-server picks a random starting member per message (client.go processMsgResults) and,
 * when that member cannot take it (closed, or a permission check fails), tries the next ones
 * in order. The router (subject-router.ts) goes round-robin instead, with one position per
 * group as the index returns it (the member list of one name on one subject): as even over
 * time as random, and no random number per message. A group's list is rebuilt whenever a
 * subscription of it changes; its position then starts at a random member, so churn does not
 * favour member 0. One name used on several subjects is one group per subject, each with its
 * own turn (a per-name counter let two subjects published alternately send everything to one
 * member of each).
 */

/**
 * Member `n` of `group`, wrapping around: `group[n % group.length]`. `n` is a non-negative
 * integer (a counter); `group` is not empty (the index never returns an empty group).
 */
export function pickMember<S>(group: readonly S[], n: number): S {
  return group[n % group.length] as S;
}
