import { boolean, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt, timestampTz } from "./columns";
import { leads } from "./crm";

export const formStatuses = ["DRAFT", "ACTIVE", "PAUSED", "ARCHIVED"] as const;
export type FormStatus = (typeof formStatuses)[number];

/** Lead fields a form field can fill in. */
export const leadFieldMappings = ["firstName", "lastName", "email", "phone", "company", "jobTitle"] as const;
export type LeadFieldMapping = (typeof leadFieldMappings)[number];

export const formFieldTypes = [
  "text",
  "email",
  "tel",
  "textarea",
  "select",
  "checkbox",
  "number",
  "url",
  "hidden",
] as const;
export type FormFieldType = (typeof formFieldTypes)[number];

export interface FormField {
  /** Key of the value in a submission and in the `form.submitted` payload's `data`. */
  readonly name: string;
  readonly label: string;
  readonly type: FormFieldType;
  readonly required: boolean;
  /** The lead field this value fills in, or null. */
  readonly leadField: LeadFieldMapping | null;
  /** Allowed values of a `select` field. */
  readonly options?: readonly string[];
}

export const forms = pgTable("forms", {
  id: text().primaryKey(),
  name: text().notNull(),
  /** Public name in the submission URL: `POST /api/forms/:slug/submissions`. */
  slug: text().notNull().unique(),
  status: text({ enum: formStatuses }).notNull().default("DRAFT"),
  fields: jsonb().$type<FormField[]>().notNull(),
  notifyEmails: text().array().notNull().default([]),
  autoRespondEnabled: boolean().notNull().default(false),
  autoRespondSubject: text(),
  autoRespondBody: text(),
  /** A customer's HTTPS URL that receives `form.submitted` for this form. */
  webhookUrl: text(),
  createdAt: createdAt(),
  updatedAt: createdAt(),
});

export const formSubmissions = pgTable(
  "form_submissions",
  {
    id: text().primaryKey(),
    formId: text()
      .notNull()
      .references(() => forms.id),
    data: jsonb().$type<Record<string, string>>().notNull(),
    utm: jsonb().$type<Record<string, string>>().notNull(),
    leadId: text().references(() => leads.id),
    ipAddress: text(),
    userAgent: text(),
    submittedAt: timestampTz().notNull(),
  },
  (table) => [index("form_submissions_form_idx").on(table.formId, table.submittedAt)],
);

/** Fixed-window request counters shared by every process, for per-IP rate limits. */
export const rateLimitCounters = pgTable(
  "rate_limit_counters",
  {
    key: text().notNull(),
    windowStart: timestampTz().notNull(),
    count: integer().notNull(),
  },
  (table) => [primaryKey({ columns: [table.key, table.windowStart] })],
);

export type Form = typeof forms.$inferSelect;
export type FormSubmission = typeof formSubmissions.$inferSelect;
