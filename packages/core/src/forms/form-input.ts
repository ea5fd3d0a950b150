import { formFieldTypes, formStatuses, leadFieldMappings } from "@basalt/db";
import { z } from "zod";

const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, {
  error: "must start with a letter and use letters, digits or _ (at most 64)",
});

export const formFieldInput = z
  .object({
    name: fieldName,
    label: z.string().trim().min(1).max(200),
    type: z.enum(formFieldTypes),
    required: z.boolean().default(false),
    leadField: z.enum(leadFieldMappings).nullable().default(null),
    options: z.array(z.string().trim().min(1).max(200)).min(1).max(100).optional(),
  })
  .refine((field) => field.type !== "select" || field.options !== undefined, {
    error: "a select field needs options",
    path: ["options"],
  });

/** A form as an admin defines it. The slug names it in the public submission URL. */
export const formInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    slug: z
      .string()
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { error: "must be lower-case letters and digits joined by -" })
      .max(64),
    status: z.enum(formStatuses).default("DRAFT"),
    fields: z.array(formFieldInput).min(1).max(50),
    notifyEmails: z.array(z.email()).max(20).default([]),
    autoRespondEnabled: z.boolean().default(false),
    autoRespondSubject: z.string().trim().min(1).max(200).nullable().default(null),
    autoRespondBody: z.string().trim().min(1).max(10_000).nullable().default(null),
    webhookUrl: z.string().trim().min(1).max(2048).nullable().default(null),
  })
  .refine((form) => new Set(form.fields.map((field) => field.name)).size === form.fields.length, {
    error: "field names must be unique",
    path: ["fields"],
  })
  .refine(
    (form) => {
      const mapped = form.fields.flatMap((field) => (field.leadField === null ? [] : [field.leadField]));
      return new Set(mapped).size === mapped.length;
    },
    { error: "each lead field can be mapped from one form field only", path: ["fields"] },
  );

export type FormInput = z.input<typeof formInput>;
