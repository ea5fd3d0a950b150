export type BodyResult = { ok: true; body: Uint8Array } | { ok: false; declaredBytes: number | null };

/**
 * Reads a request body of at most `maxBytes`. A larger declared Content-Length is rejected before
 * anything is read. A body without one is read in chunks and abandoned as soon as it passes the limit.
 */
export async function readBody(request: Request, maxBytes: number): Promise<BodyResult> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    const declaredBytes = Number(declared);
    if (!Number.isSafeInteger(declaredBytes) || declaredBytes > maxBytes) {
      return { ok: false, declaredBytes: Number.isSafeInteger(declaredBytes) ? declaredBytes : null };
    }
    const body = new Uint8Array(await request.arrayBuffer());
    return body.length > maxBytes ? { ok: false, declaredBytes } : { ok: true, body };
  }
  if (request.body === null) {
    return { ok: true, body: new Uint8Array(0) };
  }

  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    total += chunk.value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return { ok: false, declaredBytes: null };
    }
    chunks.push(chunk.value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return { ok: true, body };
}
