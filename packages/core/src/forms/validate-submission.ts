import type { FormField } from "@basalt/db";
import { FieldValidationError } from "../errors";

/** Longest value accepted for one field, in characters. */
export const maxFieldLength = 5_000;

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Checks submitted values against a form's fields and returns the values of the form's fields only,
 * trimmed. Every problem is collected, each naming the field, so one response lists them all.
 */
export function validateSubmission(
  fields: readonly FormField[],
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const errors: Record<string, string> = {};
  const data: Record<string, string> = {};
  for (const field of fields) {
    const value = (values[field.name] ?? "").trim();
    if (value === "") {
      if (field.required) {
        errors[field.name] = `${field.label} is required`;
      }
      continue;
    }
    const problem = checkValue(field, value);
    if (problem !== null) {
      errors[field.name] = problem;
      continue;
    }
    data[field.name] = value;
  }
  if (Object.keys(errors).length > 0) {
    throw new FieldValidationError(errors);
  }
  return data;
}

function checkValue(field: FormField, value: string): string | null {
  if (value.length > maxFieldLength) {
    return `${field.label} is longer than ${maxFieldLength} characters`;
  }
  if (value.includes("\u0000") || !value.isWellFormed()) {
    return `${field.label} contains characters that cannot be stored`;
  }
  switch (field.type) {
    case "email":
      return emailPattern.test(value) ? null : `${field.label} must be an email address`;
    case "number":
      return Number.isFinite(Number(value)) ? null : `${field.label} must be a number`;
    case "url":
      return URL.canParse(value) ? null : `${field.label} must be a URL`;
    case "select":
      return field.options === undefined || field.options.includes(value)
        ? null
        : `${field.label} must be one of: ${field.options.join(", ")}`;
    default:
      return null;
  }
}
