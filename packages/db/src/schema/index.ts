export * from "./crm";
export * from "./events";
export * from "./forms";
export * from "./outbound";
export * from "./secrets";
