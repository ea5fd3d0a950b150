import { describeError } from "@basalt/core";
import { Elysia } from "elysia";
import type { AppDeps } from "./deps";
import { errorResponse, requestIdOf } from "./http/errors";
import { formRoutes } from "./routes/forms";
import { healthRoutes } from "./routes/health";
import { internalRoutes } from "./routes/internal";
import { meetingRoutes } from "./routes/meetings";
import { webhookRoutes } from "./routes/webhooks";

export type { AppDeps } from "./deps";

/** Builds the HTTP app without listening, so tests can call `app.handle(request)`. */
export function createApp(deps: AppDeps) {
  // Elysia's standard hostname mode finds the path by assuming a host of some length, so a request to
  // a short host name such as `x.y` would match no route.
  return new Elysia({ handler: { standardHostname: false } })
    .onError(({ code, error, request }) => {
      const requestId = requestIdOf(request);
      if (code === "NOT_FOUND") {
        return errorResponse(
          "not_found",
          `No route for ${request.method} ${new URL(request.url).pathname}.`,
          requestId,
        );
      }
      deps.logger.error({ request_id: requestId, code, error: describeError(error) }, "request failed");
      return errorResponse("internal_error", "An internal error occurred; it has been logged.", requestId);
    })
    .use(healthRoutes(deps))
    .use(webhookRoutes(deps))
    .use(meetingRoutes(deps))
    .use(formRoutes(deps))
    .use(internalRoutes(deps));
}
