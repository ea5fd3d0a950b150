import { z } from "zod";
import { identifier, providerTime } from "./common";

export const resendEmailEvent = z.object({
  type: z.string().startsWith("email.").max(100),
  created_at: providerTime.optional(),
  data: z.object({
    /** Resend's id of the email we sent. */
    email_id: identifier,
    to: z.union([z.array(z.string()), z.string()]).optional(),
    subject: z.string().optional(),
    created_at: providerTime.optional(),
    bounce: z
      .object({
        type: z.string().optional(),
        subType: z.string().optional(),
        message: z.string().optional(),
      })
      .optional(),
    click: z.object({ link: z.string().optional() }).optional(),
  }),
});
export type ResendEmailEvent = z.infer<typeof resendEmailEvent>;
