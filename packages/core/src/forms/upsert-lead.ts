import { type Executor, type LeadFieldMapping, leads } from "@basalt/db";
import { asc, eq, sql } from "drizzle-orm";
import { newId } from "../ids";

/**
 * Creates or updates the lead a form submission describes. A lead with the same email (in any case)
 * is updated with the values given; without an email, a new lead is created. A transaction-scoped lock
 * per email keeps two submissions at once from creating two leads. Returns null when no field maps to
 * a lead.
 */
export async function upsertLeadFromForm(
  tx: Executor,
  values: Partial<Record<LeadFieldMapping, string>>,
  now: Date,
): Promise<{ leadId: string; created: boolean } | null> {
  const given = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined && value !== ""));
  if (Object.keys(given).length === 0) {
    return null;
  }
  const email = given.email?.toLowerCase();
  if (email !== undefined) {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`lead-email:${email}`}))`);
    const [existing] = await tx
      .select({ id: leads.id })
      .from(leads)
      .where(eq(sql`lower(${leads.email})`, email))
      .orderBy(asc(leads.createdAt), asc(leads.id))
      .limit(1)
      .for("update");
    if (existing) {
      await tx
        .update(leads)
        .set({ ...given, updatedAt: now })
        .where(eq(leads.id, existing.id));
      return { leadId: existing.id, created: false };
    }
  }

  const leadId = newId("lead");
  await tx.insert(leads).values({ id: leadId, ...given, createdAt: now, updatedAt: now });
  return { leadId, created: true };
}
