import {
  type Database,
  type Delivery,
  deliveries,
  type OutboundMessage,
  outboundMessages,
  type WebhookEndpoint,
  webhookEndpoints,
} from "@basalt/db";
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";

/** A claimed delivery with what its attempt needs: the message and, for customer deliveries, the endpoint. */
export interface ClaimedDelivery {
  readonly delivery: Delivery;
  readonly message: OutboundMessage;
  readonly endpoint: WebhookEndpoint | null;
}

/**
 * Claims up to `limit` due deliveries for `owner` with a lease, highest priority first. SKIP LOCKED lets
 * workers claim concurrently without taking the same delivery, and the lease keeps a second attempt
 * from starting while one is in flight. Each claim counts as an attempt.
 */
export async function claimDeliveries(
  db: Database,
  input: { owner: string; now: Date; leaseMs: number; limit: number },
): Promise<ClaimedDelivery[]> {
  const due = db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.status, "pending"),
        lte(deliveries.nextAttemptAt, input.now),
        or(isNull(deliveries.leaseExpiresAt), lt(deliveries.leaseExpiresAt, input.now)),
      ),
    )
    .orderBy(desc(deliveries.priority), asc(deliveries.nextAttemptAt))
    .limit(input.limit)
    .for("update", { skipLocked: true });
  const claimed = await db
    .update(deliveries)
    .set({
      leaseOwner: input.owner,
      leaseExpiresAt: new Date(input.now.getTime() + input.leaseMs),
      attempts: sql`${deliveries.attempts} + 1`,
      updatedAt: input.now,
    })
    .where(inArray(deliveries.id, due))
    .returning();
  if (claimed.length === 0) {
    return [];
  }

  const messageIds = [...new Set(claimed.map((delivery) => delivery.messageId))];
  const endpointIds = [...new Set(claimed.flatMap((delivery) => (delivery.endpointId ? [delivery.endpointId] : [])))];
  const [messages, endpoints] = await Promise.all([
    db.select().from(outboundMessages).where(inArray(outboundMessages.id, messageIds)),
    endpointIds.length === 0
      ? Promise.resolve([])
      : db.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, endpointIds)),
  ]);
  const messageById = new Map(messages.map((message) => [message.id, message]));
  const endpointById = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));

  const jobs: ClaimedDelivery[] = [];
  for (const delivery of claimed.sort((left, right) => right.priority - left.priority)) {
    const message = messageById.get(delivery.messageId);
    if (message) {
      jobs.push({
        delivery,
        message,
        endpoint: delivery.endpointId ? (endpointById.get(delivery.endpointId) ?? null) : null,
      });
    }
  }
  return jobs;
}
