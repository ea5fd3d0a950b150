import type { EventSource } from "@basalt/db";
import type { SourceAdapter } from "../envelope";
import { basaltechoAdapter } from "./basaltecho";
import { openaiAdapter } from "./openai";
import { resendAdapter } from "./resend";
import { surgeAdapter } from "./surge";

export const sourceAdapters: Readonly<Record<EventSource, SourceAdapter>> = {
  surge: surgeAdapter,
  basaltecho: basaltechoAdapter,
  resend: resendAdapter,
  openai: openaiAdapter,
};
