import {
  bearerToken,
  type FakeApiServer,
  type FakeReply,
  pathParameter,
  type RecordedRequest,
  startFakeApiServer,
} from "./fake-api-server";

export type MercuryInvoiceStatus = "Unpaid" | "Paid" | "Cancelled";

/**
 * An accounts-receivable invoice as the fake returns it. `id` and `status` follow Mercury's API. The
 * other fields are placeholders for the rest of Mercury's invoice, so that a response has a realistic size.
 */
export interface MercuryInvoice {
  readonly id: string;
  status: MercuryInvoiceStatus;
  readonly invoiceNumber: string;
  readonly amount: number;
  readonly invoiceDate: string;
  readonly dueDate: string;
  readonly customerId: string;
  readonly lineItems: readonly { name: string; unitPrice: number; quantity: number }[];
}

/**
 * A fake of Mercury's accounts-receivable API (base URL `.../api/v1`). `POST /ar/invoices/{id}/cancel`
 * cancels an Unpaid invoice and returns it. It rejects any other status with 400, because Mercury
 * cancels unpaid invoices only and a cancel cannot be undone. `GET /ar/invoices/{id}` returns the
 * invoice. Both need `Authorization: Bearer <token>`.
 */
export interface FakeMercury extends FakeApiServer {
  /** The API token the fake accepts. */
  readonly apiToken: string;
  /** Adds an invoice, Unpaid with one line item unless `input` sets otherwise, and returns it. */
  addInvoice(input?: { status?: MercuryInvoiceStatus; lineItemCount?: number }): MercuryInvoice;
  /** Returns the fake's current copy of an invoice, or undefined for an unknown id. */
  invoice(id: string): MercuryInvoice | undefined;
}

// NOTE: Mercury's documentation read for this fake does not show its error body, so this shape is a stand-in.
function mercuryError(status: number, message: string): FakeReply {
  return { status, body: { errors: { message } } };
}

/** Starts a fake Mercury API; configure its `url` as MERCURY_API_URL and its `apiToken` as MERCURY_API_TOKEN. */
export async function startFakeMercury(options: { apiToken?: string } = {}): Promise<FakeMercury> {
  const apiToken = options.apiToken ?? `mercury_test_${crypto.randomUUID().replaceAll("-", "")}`;
  const invoices = new Map<string, MercuryInvoice>();

  const handle = (request: RecordedRequest): FakeReply => {
    if (bearerToken(request) !== apiToken) {
      return mercuryError(401, "The API token is missing or invalid.");
    }
    const cancelId = pathParameter(request, /^\/ar\/invoices\/([^/]+)\/cancel$/);
    if (cancelId !== null && request.method === "POST") {
      return cancel(cancelId);
    }
    const readId = pathParameter(request, /^\/ar\/invoices\/([^/]+)$/);
    if (readId !== null && request.method === "GET") {
      const invoice = invoices.get(readId);
      return invoice ? { status: 200, body: invoice } : mercuryError(404, `Invoice ${readId} not found.`);
    }
    return mercuryError(404, `No route for ${request.method} ${request.path}.`);
  };

  const cancel = (id: string): FakeReply => {
    const invoice = invoices.get(id);
    if (!invoice) {
      return mercuryError(404, `Invoice ${id} not found.`);
    }
    if (invoice.status !== "Unpaid") {
      return mercuryError(400, `Invoice ${id} is ${invoice.status}; only unpaid invoices can be cancelled.`);
    }
    invoice.status = "Cancelled";
    return { status: 200, body: invoice };
  };

  const server = await startFakeApiServer(handle);
  let invoiceNumber = 1000;
  return {
    ...server,
    apiToken,
    addInvoice(input = {}) {
      invoiceNumber += 1;
      const lineItemCount = input.lineItemCount ?? 1;
      const invoice: MercuryInvoice = {
        id: crypto.randomUUID(),
        status: input.status ?? "Unpaid",
        invoiceNumber: `MER-${invoiceNumber}`,
        amount: 499 * lineItemCount,
        invoiceDate: "2026-02-20",
        dueDate: "2026-03-20",
        customerId: crypto.randomUUID(),
        lineItems: Array.from({ length: lineItemCount }, (_, index) => ({
          name: `Acme PRO seat ${index + 1}, annual subscription with priority support`,
          unitPrice: 499,
          quantity: 1,
        })),
      };
      invoices.set(invoice.id, invoice);
      return invoice;
    },
    invoice(id) {
      return invoices.get(id);
    },
    reset() {
      server.reset();
      invoices.clear();
    },
  };
}
