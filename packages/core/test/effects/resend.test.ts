import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type EmailStatus, emailSuppressions, leadActivities, leads, outreachEmails } from "@basalt/db";
import { asc, eq } from "drizzle-orm";
import { newId } from "../../src";
import { createCrmFixture, createTestContext, deliver, readEvent, receiveSigned, type TestContext } from "../support";

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx.database.destroy();
});

type EmailTimestamp = "deliveredAt" | "openedAt" | "clickedAt" | "bouncedAt" | "complainedAt";

const sentTime = "2026-03-01T09:00:00.000Z";
const deliveredTime = "2026-03-01T09:00:05.000Z";
const openedTime = "2026-03-01T10:15:00.000Z";
const clickedTime = "2026-03-01T10:16:00.000Z";

const emailEvent = (type: string, emailId: string, createdAt: string, data: Record<string, unknown> = {}) => ({
  type,
  created_at: createdAt,
  data: {
    email_id: emailId,
    to: ["[email protected]"],
    subject: "Re: Partnership Opportunity",
    created_at: createdAt,
    ...data,
  },
});

async function readEmail(id: string) {
  const [email] = await ctx.db.select().from(outreachEmails).where(eq(outreachEmails.id, id));
  return email;
}

async function readSuppression(address: string) {
  const [suppression] = await ctx.db.select().from(emailSuppressions).where(eq(emailSuppressions.email, address));
  return suppression;
}

async function readLead(id: string) {
  const [lead] = await ctx.db.select().from(leads).where(eq(leads.id, id));
  return lead;
}

async function readActivities(leadId: string) {
  return ctx.db
    .select()
    .from(leadActivities)
    .where(eq(leadActivities.leadId, leadId))
    .orderBy(asc(leadActivities.occurredAt), asc(leadActivities.id));
}

/** Adds another outreach email in status SENT. With a null lead id, it belongs to no lead. */
async function addOutreachEmail(leadId: string | null, toAddress: string) {
  const email = { id: newId("oem"), providerEmailId: newId("msg") };
  await ctx.db.insert(outreachEmails).values({ ...email, leadId, toAddress, subject: "Follow-up", status: "SENT" });
  return email;
}

describe("resend delivery progress", () => {
  const progress: { type: string; status: EmailStatus; timestamp: EmailTimestamp; time: string }[] = [
    { type: "email.delivered", status: "DELIVERED", timestamp: "deliveredAt", time: deliveredTime },
    { type: "email.opened", status: "OPENED", timestamp: "openedAt", time: openedTime },
    { type: "email.clicked", status: "CLICKED", timestamp: "clickedAt", time: clickedTime },
  ];

  test.each(progress)("$type sets $status", async ({ type, status, timestamp, time }) => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "resend", emailEvent(type, fixture.emailId, time));

    expect(stored.status).toBe("processed");
    expect(stored.eventType).toBe(type);
    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe(status);
    expect(email?.[timestamp]).toEqual(new Date(time));
    const [activity, ...others] = await readActivities(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(activity?.kind).toBe(type);
    expect(activity?.occurredAt).toEqual(new Date(time));
    expect(activity?.eventId).toBe(stored.id);
    expect(activity?.data).toEqual({ outreachEmailId: fixture.outreachEmailId, statusChanged: true });
  });

  test("full sequence ends CLICKED", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await deliver(ctx, "resend", emailEvent("email.sent", fixture.emailId, sentTime));
    await deliver(ctx, "resend", emailEvent("email.delivered", fixture.emailId, deliveredTime));
    await deliver(ctx, "resend", emailEvent("email.opened", fixture.emailId, openedTime));
    await deliver(ctx, "resend", emailEvent("email.clicked", fixture.emailId, clickedTime));

    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe("CLICKED");
    expect(email?.sentAt).toEqual(new Date(sentTime));
    expect(email?.deliveredAt).toEqual(new Date(deliveredTime));
    expect(email?.openedAt).toEqual(new Date(openedTime));
    expect(email?.clickedAt).toEqual(new Date(clickedTime));
    const kinds = (await readActivities(fixture.leadId)).map((activity) => activity.kind);
    expect(kinds).toEqual(["email.sent", "email.delivered", "email.opened", "email.clicked"]);
  });

  test("second open keeps the first time", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "resend", emailEvent("email.opened", fixture.emailId, openedTime));

    await deliver(ctx, "resend", emailEvent("email.opened", fixture.emailId, "2026-03-01T11:00:00.000Z"));

    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe("OPENED");
    expect(email?.openedAt).toEqual(new Date(openedTime));
    expect(await readActivities(fixture.leadId)).toHaveLength(2);
  });

  test("earlier open arriving later", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "resend", emailEvent("email.opened", fixture.emailId, "2026-03-01T11:00:00.000Z"));

    await deliver(ctx, "resend", emailEvent("email.opened", fixture.emailId, openedTime));

    expect((await readEmail(fixture.outreachEmailId))?.openedAt).toEqual(new Date(openedTime));
  });

  test("delivered after opened stays OPENED", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "resend", emailEvent("email.opened", fixture.emailId, openedTime));

    const late = await deliver(ctx, "resend", emailEvent("email.delivered", fixture.emailId, deliveredTime));

    expect(late.status).toBe("processed");
    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe("OPENED");
    expect(email?.deliveredAt).toEqual(new Date(deliveredTime));
    expect(email?.openedAt).toEqual(new Date(openedTime));
    const [delivered, opened, ...others] = await readActivities(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(delivered?.kind).toBe("email.delivered");
    expect(delivered?.eventId).toBe(late.id);
    expect(delivered?.summary).toContain("(status unchanged)");
    expect(delivered?.data).toEqual({ outreachEmailId: fixture.outreachEmailId, statusChanged: false });
    expect(opened?.kind).toBe("email.opened");
  });

  test("opened after clicked stays CLICKED", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "resend", emailEvent("email.clicked", fixture.emailId, clickedTime));

    await deliver(ctx, "resend", emailEvent("email.opened", fixture.emailId, openedTime));

    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe("CLICKED");
    expect(email?.openedAt).toEqual(new Date(openedTime));
  });
});

describe("resend email.bounced", () => {
  const hardBounces = [
    { name: "Permanent bounce", data: { bounce: { type: "Permanent", subType: "General", message: "No such user" } } },
    { name: "bounce without details", data: {} },
  ];

  test.each(hardBounces)("$name suppresses the address", async ({ data }) => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "resend", emailEvent("email.bounced", fixture.emailId, deliveredTime, data));

    expect(stored.status).toBe("processed");
    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe("BOUNCED");
    expect(email?.bouncedAt).toEqual(new Date(deliveredTime));
    const address = fixture.emailAddress.toLowerCase();
    expect(address).not.toBe(fixture.emailAddress);
    const suppression = await readSuppression(address);
    expect(suppression?.reason).toBe("bounced");
    expect(suppression?.eventId).toBe(stored.id);
    expect(await readSuppression(fixture.emailAddress)).toBeUndefined();
    expect((await readLead(fixture.leadId))?.optedOut).toBe(false);
    const [activity] = await readActivities(fixture.leadId);
    expect(activity?.kind).toBe("email.bounced");
  });

  test("Transient bounce does not suppress", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const data = { bounce: { type: "Transient", subType: "MailboxFull", message: "Mailbox full" } };

    const stored = await deliver(ctx, "resend", emailEvent("email.bounced", fixture.emailId, deliveredTime, data));

    expect(stored.status).toBe("processed");
    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe("SENT");
    expect(email?.bouncedAt).toBeNull();
    expect(await readSuppression(fixture.emailAddress.toLowerCase())).toBeUndefined();
    const [activity, ...others] = await readActivities(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(activity?.kind).toBe("email.bounced");
    expect(activity?.summary).toContain("temporary");
    expect(activity?.data).toEqual({
      outreachEmailId: fixture.outreachEmailId,
      statusChanged: false,
      bounceType: "Transient",
    });
  });

  test("Permanent bounce after Transient", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const transient = { bounce: { type: "Transient" } };
    await deliver(ctx, "resend", emailEvent("email.bounced", fixture.emailId, deliveredTime, transient));

    await deliver(
      ctx,
      "resend",
      emailEvent("email.bounced", fixture.emailId, openedTime, { bounce: { type: "Permanent" } }),
    );

    expect((await readEmail(fixture.outreachEmailId))?.status).toBe("BOUNCED");
    expect((await readSuppression(fixture.emailAddress.toLowerCase()))?.reason).toBe("bounced");
  });

  const laterTypes = ["email.delivered", "email.opened", "email.clicked", "email.complained", "email.bounced"];

  test.each(laterTypes)("%s after BOUNCED stays BOUNCED", async (type) => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "resend", emailEvent("email.bounced", fixture.emailId, deliveredTime));

    const later = await deliver(ctx, "resend", emailEvent(type, fixture.emailId, clickedTime));

    expect(later.status).toBe("processed");
    expect((await readEmail(fixture.outreachEmailId))?.status).toBe("BOUNCED");
    expect((await readSuppression(fixture.emailAddress.toLowerCase()))?.reason).toBe("bounced");
    expect(await readActivities(fixture.leadId)).toHaveLength(2);
  });
});

describe("resend email.complained", () => {
  test("suppresses and opts the lead out", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "resend", emailEvent("email.opened", fixture.emailId, openedTime));

    const stored = await deliver(ctx, "resend", emailEvent("email.complained", fixture.emailId, clickedTime));

    expect(stored.status).toBe("processed");
    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe("COMPLAINED");
    expect(email?.complainedAt).toEqual(new Date(clickedTime));
    const suppression = await readSuppression(fixture.emailAddress.toLowerCase());
    expect(suppression?.reason).toBe("complained");
    expect(suppression?.eventId).toBe(stored.id);
    const lead = await readLead(fixture.leadId);
    expect(lead?.optedOut).toBe(true);
    expect(lead?.optedOutAt).toEqual(new Date(clickedTime));
    const kinds = (await readActivities(fixture.leadId)).map((activity) => activity.kind);
    expect(kinds).toEqual(["email.opened", "email.complained"]);
  });

  test("after COMPLAINED nothing moves", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "resend", emailEvent("email.complained", fixture.emailId, openedTime));

    await deliver(ctx, "resend", emailEvent("email.clicked", fixture.emailId, clickedTime));
    await deliver(ctx, "resend", emailEvent("email.bounced", fixture.emailId, clickedTime));

    expect((await readEmail(fixture.outreachEmailId))?.status).toBe("COMPLAINED");
    expect((await readSuppression(fixture.emailAddress.toLowerCase()))?.reason).toBe("complained");
  });

  test("second complaint keeps the opt-out time", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const second = await addOutreachEmail(fixture.leadId, fixture.emailAddress);
    await deliver(ctx, "resend", emailEvent("email.complained", fixture.emailId, openedTime));

    await deliver(ctx, "resend", emailEvent("email.complained", second.providerEmailId, clickedTime));

    const lead = await readLead(fixture.leadId);
    expect(lead?.optedOut).toBe(true);
    expect(lead?.optedOutAt).toEqual(new Date(openedTime));
    expect((await readEmail(second.id))?.status).toBe("COMPLAINED");
  });

  test("email without a lead", async () => {
    const address = `${newId("user")}@Example.org`;
    const email = await addOutreachEmail(null, address);

    const stored = await deliver(ctx, "resend", emailEvent("email.complained", email.providerEmailId, clickedTime));

    expect(stored.status).toBe("processed");
    expect((await readEmail(email.id))?.status).toBe("COMPLAINED");
    expect((await readSuppression(address.toLowerCase()))?.reason).toBe("complained");
    const activities = await ctx.db.select().from(leadActivities).where(eq(leadActivities.eventId, stored.id));
    expect(activities).toHaveLength(0);
  });
});

describe("resend other events", () => {
  test("email.delivery_delayed adds an activity only", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const before = await readEmail(fixture.outreachEmailId);

    const stored = await deliver(ctx, "resend", emailEvent("email.delivery_delayed", fixture.emailId, deliveredTime));

    expect(stored.status).toBe("processed");
    const email = await readEmail(fixture.outreachEmailId);
    expect(email?.status).toBe("SENT");
    expect(email?.deliveredAt).toBeNull();
    expect(email?.updatedAt).toEqual(before?.updatedAt ?? new Date(0));
    expect(await readSuppression(fixture.emailAddress.toLowerCase())).toBeUndefined();
    const [activity, ...others] = await readActivities(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(activity?.kind).toBe("email.delivery_delayed");
    expect(activity?.eventId).toBe(stored.id);
    expect(activity?.occurredAt).toEqual(new Date(deliveredTime));
  });

  test("unknown email_id is ignored", async () => {
    const stored = await deliver(ctx, "resend", emailEvent("email.delivered", "msg_never_sent", deliveredTime));

    expect(stored.status).toBe("ignored");
    expect(stored.statusReason).toContain("msg_never_sent");
    expect(stored.lastError).toBeNull();
  });

  test("contact.created ignored at receive", async () => {
    const outcome = await receiveSigned(ctx, "resend", {
      type: "contact.created",
      created_at: deliveredTime,
      data: { id: "contact_1", email: "[email protected]" },
    });

    expect(outcome.kind).toBe("stored");
    if (outcome.kind !== "stored") {
      return;
    }
    expect(outcome.status).toBe("ignored");
    expect(outcome.eventType).toBe("contact.created");
    expect(outcome.reason).toContain("contact.created");
    expect(ctx.pendingEvents).not.toContain(outcome.eventId);
    expect((await readEvent(ctx.db, outcome.eventId)).status).toBe("ignored");
  });

  test("email event without email_id is rejected", async () => {
    const outcome = await receiveSigned(ctx, "resend", { type: "email.opened", data: { subject: "Hi" } });

    expect(outcome.kind).toBe("stored");
    if (outcome.kind !== "stored") {
      return;
    }
    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toContain("data.email_id");
  });

  test("duplicate svix-id is one event", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const svixId = newId("msg");
    const event = emailEvent("email.opened", fixture.emailId, openedTime);
    const first = await deliver(ctx, "resend", event, { id: svixId });

    const second = await deliver(ctx, "resend", event, { id: svixId });

    expect(second.id).toBe(first.id);
    expect(await readActivities(fixture.leadId)).toHaveLength(1);
    expect((await readEmail(fixture.outreachEmailId))?.status).toBe("OPENED");
  });
});
