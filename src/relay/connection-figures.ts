/**
 * How each kind of connection answers the ConnectionRegistry's `figures()`: from the counters
 * it keeps anyway (per read, per batch), read only when /connz or the status page asks.
 */
import type { ConnectionFigures } from "./connection-registry.ts";
import type { NatsConnection } from "./nats-connection.ts";
import type { PublisherPacing } from "./pacing.ts";
import type { PublisherConnection } from "./publisher.ts";
import type { Subscriber } from "./subscriber.ts";

const NO_SUBJECTS: readonly string[] = [];

/**
 * A line or frame publisher. Its held time is the relay-wide hold since it connected
 * (pacing holds every publisher at once). A frame publisher's unwritten acks are its pending
 * bytes.
 */
export function publisherFigures(
  publisher: PublisherConnection & { readonly pendingOutput?: number },
  pacing: PublisherPacing,
): () => ConnectionFigures {
  const heldAtOpen = pacing.heldMsNow();
  return () => ({
    inMsgs: publisher.messagesIn,
    inBytes: publisher.bytesIn,
    outMsgs: 0,
    outBytes: 0,
    pendingBytes: publisher.pendingOutput ?? 0,
    subjects: NO_SUBJECTS,
    heldMs: pacing.heldMsNow() - heldAtOpen,
    stalledMs: 0,
  });
}

/** What a subscriber's backlog did to publishers: finished episodes plus the current one. */
function holding(subscriber: Subscriber): { heldMs: number; stalledMs: number } {
  const stalledMs = subscriber.holdingPublishers ? performance.now() - subscriber.holdingSince : 0;
  return { heldMs: subscriber.heldPublishersMs + stalledMs, stalledMs };
}

/** A line or frame subscriber: it reads the stream, `subject` (--sub-subject). */
export function subscriberFigures(
  subscriber: Subscriber,
  subject: string,
): () => ConnectionFigures {
  const subjects = [subject];
  return () => ({
    inMsgs: 0,
    inBytes: subscriber.inputBytes,
    outMsgs: subscriber.messagesSent,
    outBytes: subscriber.bytesSent,
    pendingBytes: subscriber.backlog.length,
    subjects,
    ...holding(subscriber),
  });
}

/**
 * A NATS client (the NATS port, or NATS over WebSocket): its PUBs in, its deliveries out
 * through its outbound side, its subscriptions' subjects, its user and CONNECT name.
 */
export function natsFigures(connection: NatsConnection): () => ConnectionFigures {
  return () => {
    const outbound = connection.outbound;
    return {
      inMsgs: connection.messagesIn,
      inBytes: connection.bytesIn,
      outMsgs: outbound.messagesSent,
      outBytes: outbound.bytesSent,
      pendingBytes: outbound.backlog.length,
      subjects: [...connection.subscriptions.values()].map((subscription) => subscription.subject),
      ...holding(outbound),
      user: connection.user,
      name: connection.name,
    };
  };
}
