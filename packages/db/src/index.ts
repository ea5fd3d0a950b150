export * from "./client";
export * from "./errors";
export * from "./migrate";
export * from "./schema";
