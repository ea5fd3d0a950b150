export * from "./client";
export * from "./errors";
export * from "./insert-events";
export * from "./migrate";
export * from "./record-successes";
export * from "./schema";
