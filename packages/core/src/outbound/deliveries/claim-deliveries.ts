import {
  type Database,
  type Delivery,
  type DeliveryTarget,
  deliveries,
  type OutboundMessage,
  rowsOf,
  type WebhookEndpoint,
  webhookEndpoints,
} from "@basalt/db";
import { and, eq, inArray, sql } from "drizzle-orm";

/** The columns of a claimed delivery that its attempt needs; `attempts` includes this claim. */
export type ClaimedDeliveryRow = Pick<Delivery, "id" | "messageId" | "target" | "endpointId" | "attempts">;

/** A claimed delivery with what its attempt needs: the message and, for customer deliveries, the endpoint. */
export interface ClaimedDelivery {
  readonly delivery: ClaimedDeliveryRow;
  readonly message: Pick<OutboundMessage, "id" | "eventType" | "body">;
  readonly endpoint: WebhookEndpoint | null;
}

interface ClaimedRow {
  readonly id: string;
  readonly message_id: string;
  readonly target: DeliveryTarget;
  readonly endpoint_id: string | null;
  readonly attempts: number;
  readonly event_type: string;
  readonly body: string;
}

/**
 * Claims up to `limit` due deliveries for `owner` with a lease, urgent ones (priority above zero) first,
 * and returns them with their messages and endpoints. SKIP LOCKED lets workers claim concurrently
 * without taking the same delivery, and the lease keeps a second attempt from starting while one is in
 * flight. Each claim counts as an attempt.
 *
 * One statement picks, leases and joins the messages: the claim is on the critical path of every
 * delivery, and each round trip and commit it saves is throughput. Each candidate list reads its partial
 * index in time order and stops at the limit, so a large backlog is never sorted. A claimed delivery is
 * due again when its lease expires (its worker died). The claim changes no indexed column, so Postgres
 * rewrites the row in place without index entries; the next claim steps over the leased rows.
 */
export async function claimDeliveries(
  db: Database,
  input: { owner: string; now: Date; leaseMs: number; limit: number },
): Promise<ClaimedDelivery[]> {
  const now = input.now.toISOString();
  const leaseExpiresAt = new Date(input.now.getTime() + input.leaseMs).toISOString();
  const result = await db.execute(sql`
    with urgent as (
      select id from deliveries
      where status = 'pending' and priority > 0 and next_attempt_at <= ${now}
        and (lease_expires_at is null or lease_expires_at <= ${now})
      order by next_attempt_at
      limit ${input.limit}
      for update skip locked
    ), normal as (
      select id from deliveries
      where status = 'pending' and next_attempt_at <= ${now}
        and (lease_expires_at is null or lease_expires_at <= ${now})
      order by next_attempt_at
      limit ${input.limit}
      for update skip locked
    ), chosen as (
      select id from (
        select id, 0 as rank from urgent
        union all
        select id, 1 as rank from normal where id not in (select id from urgent)
      ) candidates
      order by rank
      limit ${input.limit}
    )
    update deliveries
    set lease_owner = ${input.owner}, lease_expires_at = ${leaseExpiresAt}, attempts = deliveries.attempts + 1, updated_at = ${now}
    from outbound_messages
    where deliveries.id = any(array(select id from chosen)) and outbound_messages.id = deliveries.message_id
    returning deliveries.id, deliveries.message_id, deliveries.target, deliveries.endpoint_id, deliveries.attempts,
              outbound_messages.event_type, outbound_messages.body`);
  const claimed = rowsOf<ClaimedRow>(result);
  if (claimed.length === 0) {
    return [];
  }

  const endpointIds = [...new Set(claimed.flatMap((row) => (row.endpoint_id ? [row.endpoint_id] : [])))];
  const endpoints =
    endpointIds.length === 0
      ? []
      : await db.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, endpointIds));
  const endpointById = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  return claimed.map((row) => ({
    delivery: {
      id: row.id,
      messageId: row.message_id,
      target: row.target,
      endpointId: row.endpoint_id,
      attempts: Number(row.attempts),
    },
    message: { id: row.message_id, eventType: row.event_type, body: row.body },
    endpoint: row.endpoint_id ? (endpointById.get(row.endpoint_id) ?? null) : null,
  }));
}

/** Gives back claimed deliveries that were never attempted, so another worker sends them at once. */
export async function releaseDeliveries(db: Database, input: { owner: string; ids: readonly string[] }): Promise<void> {
  if (input.ids.length === 0) {
    return;
  }
  await db
    .update(deliveries)
    .set({
      leaseOwner: null,
      leaseExpiresAt: null,
      attempts: sql`greatest(${deliveries.attempts} - 1, 0)`,
    })
    .where(
      and(
        inArray(deliveries.id, [...input.ids]),
        eq(deliveries.leaseOwner, input.owner),
        eq(deliveries.status, "pending"),
      ),
    );
}
