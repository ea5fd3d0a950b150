import type { FormField } from "@basalt/db";
import { FieldValidationError } from "../errors";

/** Maximum length of one field's value, in characters. */
export const maxFieldLength = 5_000;

/** UTM parameters kept with a submission, under their names without the `utm_` prefix. */
export const utmParameters = ["source", "medium", "campaign", "term", "content"] as const;

/** Maximum length of a kept UTM value, in UTF-16 code units. A longer value is cut. */
export const maxUtmLength = 200;

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A decimal number, optionally with an exponent; `Number()` alone would also take hex, binary and octal. */
const decimalPattern = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Schemes a `url` field accepts: a website address, never `javascript:` or `data:`, which links would run. */
const webSchemes = ["http:", "https:"];

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
    // Own properties only: a field named `constructor` or `toString` must not read Object.prototype.
    const value = (Object.hasOwn(values, field.name) ? (values[field.name] ?? "") : "").trim();
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

/**
 * Returns the known UTM parameters that have a value, trimmed and cut to `maxUtmLength` without splitting
 * a surrogate pair. Long values are cut rather than rejected, because a visitor cannot change the link
 * they came from. Postgres cannot store a NUL character or an unpaired surrogate, so such a value is
 * rejected under its `utm_` name.
 */
export function validateUtm(utm: Readonly<Record<string, string>>): Record<string, string> {
  const errors: Record<string, string> = {};
  const parameters: Record<string, string> = {};
  for (const name of utmParameters) {
    const value = (Object.hasOwn(utm, name) ? (utm[name] ?? "") : "").trim();
    if (value === "") {
      continue;
    }
    if (!isStorable(value)) {
      errors[`utm_${name}`] = `utm_${name} contains characters that cannot be stored`;
      continue;
    }
    parameters[name] = cutWhole(value, maxUtmLength);
  }
  if (Object.keys(errors).length > 0) {
    throw new FieldValidationError(errors);
  }
  return parameters;
}

function cutWhole(value: string, maxLength: number): string {
  const cut = value.slice(0, maxLength);
  // A high surrogate at the end lost its pair to the cut.
  return cut.isWellFormed() ? cut : cut.slice(0, -1);
}

/** Postgres text and jsonb reject NUL characters and unpaired UTF-16 surrogates. */
function isStorable(value: string): boolean {
  return !value.includes("\u0000") && value.isWellFormed();
}

function checkValue(field: FormField, value: string): string | null {
  if (value.length > maxFieldLength) {
    return `${field.label} is longer than ${maxFieldLength} characters`;
  }
  if (!isStorable(value)) {
    return `${field.label} contains characters that cannot be stored`;
  }
  switch (field.type) {
    case "email":
      return emailPattern.test(value) ? null : `${field.label} must be an email address`;
    case "number":
      return decimalPattern.test(value) && Number.isFinite(Number(value)) ? null : `${field.label} must be a number`;
    case "url":
      return isWebUrl(value) ? null : `${field.label} must be an http or https URL`;
    case "select":
      return field.options === undefined || field.options.includes(value)
        ? null
        : `${field.label} must be one of: ${field.options.join(", ")}`;
    default:
      return null;
  }
}

function isWebUrl(value: string): boolean {
  const url = URL.parse(value);
  return url !== null && webSchemes.includes(url.protocol) && url.hostname !== "";
}
