import { describe, expect, test } from "bun:test";
import type { FormField, FormFieldType } from "@basalt/db";
import { FieldValidationError } from "../../src";
import { maxFieldLength, validateSubmission } from "../../src/forms/validate-submission";

function field(name: string, type: FormFieldType, extra: Partial<FormField> = {}): FormField {
  return {
    name,
    label: name.charAt(0).toUpperCase() + name.slice(1),
    type,
    required: false,
    leadField: null,
    ...extra,
  };
}

function address(local: string, domain = "example.com"): string {
  return [local, domain].join("@");
}

/** Returns the field errors of a rejected submission; fails the test when the values pass. */
function fieldErrorsOf(fields: readonly FormField[], values: Record<string, string>): Readonly<Record<string, string>> {
  try {
    validateSubmission(fields, values);
  } catch (error) {
    if (error instanceof FieldValidationError) {
      return error.fieldErrors;
    }
    throw error;
  }
  throw new Error(`expected a FieldValidationError for ${JSON.stringify(values)}`);
}

describe("validateSubmission required fields", () => {
  const fields = [
    field("firstName", "text", { label: "First name", required: true }),
    field("email", "email", { label: "Email address", required: true }),
    field("message", "textarea"),
  ];

  test("lists every missing field", () => {
    const errors = fieldErrorsOf(fields, { message: "Hello" });

    expect(Object.keys(errors).sort()).toEqual(["email", "firstName"]);
    expect(errors.firstName).toBe("First name is required");
    expect(errors.email).toBe("Email address is required");
  });

  test("message names each field and label", () => {
    let message = "";

    try {
      validateSubmission(fields, {});
    } catch (error) {
      message = error instanceof Error ? error.message : "";
    }

    expect(message).toContain("firstName");
    expect(message).toContain("First name");
    expect(message).toContain("email");
    expect(message).toContain("Email address");
  });

  test("whitespace-only value counts as missing", () => {
    const errors = fieldErrorsOf(fields, { firstName: "   \t\n", email: address("ann") });

    expect(errors.firstName).toBe("First name is required");
    expect(errors.email).toBeUndefined();
  });

  test("missing optional field is left out", () => {
    const data = validateSubmission(fields, { firstName: "Ann", email: address("ann"), message: "  " });

    expect(data).toEqual({ firstName: "Ann", email: address("ann") });
  });
});

describe("validateSubmission values", () => {
  test("trims values and drops unknown fields", () => {
    const fields = [field("firstName", "text"), field("company", "text")];

    const data = validateSubmission(fields, { firstName: "  Ann \n", company: "\tAcme Corp ", admin: "true" });

    expect(data).toEqual({ firstName: "Ann", company: "Acme Corp" });
  });

  test("value at the limit is accepted", () => {
    const value = "x".repeat(maxFieldLength);

    const data = validateSubmission([field("message", "textarea")], { message: value });

    expect(data.message).toBe(value);
  });

  test("value over the limit is rejected", () => {
    const errors = fieldErrorsOf([field("message", "textarea")], { message: "x".repeat(maxFieldLength + 1) });

    expect(errors.message).toContain("Message");
    expect(errors.message).toContain(String(maxFieldLength));
  });

  test("NUL character is rejected", () => {
    const errors = fieldErrorsOf([field("message", "textarea")], { message: "a\u0000b" });

    expect(errors.message).toContain("cannot be stored");
  });

  test("lone surrogate is rejected", () => {
    const errors = fieldErrorsOf([field("message", "textarea")], { message: "broken \ud83d here" });

    expect(errors.message).toContain("cannot be stored");
  });

  test("emoji and accents are kept", () => {
    const data = validateSubmission([field("message", "textarea")], { message: "Zoë 🚀 東京" });

    expect(data.message).toBe("Zoë 🚀 東京");
  });

  test("Object.prototype names are not values", () => {
    const fields = [field("constructor", "text"), field("toString", "text"), field("valueOf", "text")];

    const data = validateSubmission(fields, {});

    expect(Object.keys(data)).toEqual([]);
  });

  test("required Object.prototype name is missing", () => {
    const errors = fieldErrorsOf([field("constructor", "text", { required: true })], {});

    expect(Object.entries(errors)).toEqual([["constructor", "Constructor is required"]]);
  });
});

describe("validateSubmission type checks", () => {
  const cases: { type: FormFieldType; value: string; valid: boolean }[] = [
    { type: "email", value: address("ann"), valid: true },
    { type: "email", value: address("ann.lee+forms", "mail.example.co.uk"), valid: true },
    { type: "email", value: "ann@", valid: false },
    { type: "email", value: "ann example.com", valid: false },
    { type: "email", value: address("ann", "localhost"), valid: false },
    { type: "email", value: `${address("ann")} ${address("bob")}`, valid: false },
    { type: "number", value: "42", valid: true },
    { type: "number", value: "-3.5", valid: true },
    { type: "number", value: "0.25", valid: true },
    { type: "number", value: "1e3", valid: true },
    { type: "number", value: "abc", valid: false },
    { type: "number", value: "12abc", valid: false },
    { type: "number", value: "Infinity", valid: false },
    { type: "number", value: "NaN", valid: false },
    { type: "number", value: "0x1F", valid: false },
    { type: "number", value: "1,5", valid: false },
    { type: "url", value: "https://example.com/pricing?plan=pro", valid: true },
    { type: "url", value: "http://example.com", valid: true },
    { type: "url", value: "example.com", valid: false },
    { type: "url", value: "not a url", valid: false },
    { type: "url", value: "javascript:alert(1)", valid: false },
    { type: "url", value: "data:text/html,<script>alert(1)</script>", valid: false },
    { type: "tel", value: "+1 (555) 010-0200", valid: true },
    { type: "text", value: "anything at all", valid: true },
    { type: "checkbox", value: "on", valid: true },
    { type: "hidden", value: "landing-page-7", valid: true },
  ];

  for (const { type, value, valid } of cases) {
    test(`${type} ${JSON.stringify(value)} is ${valid ? "accepted" : "rejected"}`, () => {
      const fields = [field("answer", type)];

      if (valid) {
        expect(validateSubmission(fields, { answer: value })).toEqual({ answer: value });
      } else {
        expect(fieldErrorsOf(fields, { answer: value }).answer).toStartWith("Answer must be");
      }
    });
  }

  const plan = field("plan", "select", { options: ["Starter", "Pro"] });

  test("select accepts a listed option", () => {
    const data = validateSubmission([plan], { plan: " Pro " });

    expect(data.plan).toBe("Pro");
  });

  test("select rejects an unlisted option", () => {
    for (const value of ["pro", "Enterprise"]) {
      const errors = fieldErrorsOf([plan], { plan: value });

      expect(errors.plan).toBe("Plan must be one of: Starter, Pro");
    }
  });

  test("all problems are reported together", () => {
    const fields = [
      field("email", "email", { required: true }),
      field("seats", "number"),
      field("website", "url"),
      plan,
    ];

    const errors = fieldErrorsOf(fields, { seats: "many", website: "nope", plan: "Gold" });

    expect(Object.keys(errors).sort()).toEqual(["email", "plan", "seats", "website"]);
  });
});
