export * from "./crm";
export * from "./events";
export * from "./secrets";
