import { formFieldTypes, formStatuses, leadFieldMappings } from "@basalt/db";
import { z } from "zod";

/** Maximum slug length, in characters. */
const maxSlugLength = 64;

const slugPattern = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Returns whether a string has the shape of a slug: lower-case letters and digits joined by single dashes. */
export function isFormSlug(value: string): boolean {
  return value.length <= maxSlugLength && slugPattern.test(value);
}

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
  .superRefine((field, ctx) => {
    if (field.type === "select" && field.options === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `select field ${field.name} needs at least one option`,
        path: ["options"],
      });
    }
  });

/** A form as an admin defines it. The slug names it in the public submission URL. */
export const formInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    slug: z
      .string()
      .regex(slugPattern, { error: "must be lower-case letters and digits joined by -" })
      .max(maxSlugLength),
    status: z.enum(formStatuses).default("DRAFT"),
    fields: z.array(formFieldInput).min(1).max(50),
    notifyEmails: z
      .array(z.email({ error: (issue) => `${String(issue.input)} is not a valid email address` }))
      .max(20)
      .default([]),
    autoRespondEnabled: z.boolean().default(false),
    autoRespondSubject: z.string().trim().min(1).max(200).nullable().default(null),
    autoRespondBody: z.string().trim().min(1).max(10_000).nullable().default(null),
    webhookUrl: z.string().trim().min(1).max(2048).nullable().default(null),
  })
  .superRefine((form, ctx) => {
    // Each issue is reported on the later of two clashing fields, so its path names the field to change.
    const names = new Set<string>();
    const byLeadField = new Map<string, string>();
    for (const [index, field] of form.fields.entries()) {
      if (names.has(field.name)) {
        ctx.addIssue({
          code: "custom",
          message: `field name ${field.name} is used by more than one field; give each field its own name`,
          path: ["fields", index, "name"],
        });
      } else {
        names.add(field.name);
      }
      if (field.leadField === null) {
        continue;
      }
      const mappedFrom = byLeadField.get(field.leadField);
      if (mappedFrom === undefined) {
        byLeadField.set(field.leadField, field.name);
      } else {
        ctx.addIssue({
          code: "custom",
          message: `fields ${mappedFrom} and ${field.name} both map to lead field ${field.leadField}; map each lead field from one form field only`,
          path: ["fields", index, "leadField"],
        });
      }
    }
  });

export type FormInput = z.input<typeof formInput>;
