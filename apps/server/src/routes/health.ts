import { countPendingMigrations, describeDatabaseError } from "@basalt/db";
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";

/** Liveness, readiness and Prometheus metrics. */
export function healthRoutes(deps: AppDeps) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => Response.json({ status: "ok" }))
    .get("/readyz", async () => {
      try {
        await deps.database.ping();
        const pending = await countPendingMigrations(deps.database.db);
        if (pending > 0) {
          return Response.json({ status: "not_ready", reason: `${pending} migrations not applied` }, { status: 503 });
        }
        return Response.json({ status: "ready" });
      } catch (error) {
        return Response.json(
          { status: "not_ready", reason: `database unreachable: ${describeDatabaseError(error)}` },
          { status: 503 },
        );
      }
    })
    .get("/metrics", async () => {
      try {
        return new Response(await deps.metrics.registry.metrics(), {
          headers: { "content-type": deps.metrics.registry.contentType },
        });
      } catch (error) {
        return new Response(`# metrics unavailable: ${describeDatabaseError(error)}\n`, { status: 503 });
      }
    });
}
