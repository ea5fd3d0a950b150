/**
 * Extracts the address of a SIP header: `sip:+15551234567@example.com` for
 * `"Alice" <sip:+15551234567@example.com;user=phone>;tag=1`. That is the URI inside angle brackets, or
 * the value up to its parameters, without the URI's own parameters and headers. Header names match in any case.
 */
export function sipAddress(headers: readonly { name: string; value: string }[], name: string): string | null {
  const header = headers.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (!header) {
    return null;
  }
  const bracketed = /<([^>]*)>/.exec(header.value);
  const address = withoutUriParameters(bracketed?.[1] ?? header.value.split(";")[0] ?? "").trim();
  return address === "" ? null : address;
}

/**
 * Cuts a URI's parameters (`;user=phone`) and headers (`?subject=x`), which start after the host. A
 * user part may itself contain `;`, so the search starts after the `@` when there is one.
 */
function withoutUriParameters(uri: string): string {
  const hostStart = uri.indexOf("@") + 1;
  const end = uri.slice(hostStart).search(/[;?]/);
  return end === -1 ? uri : uri.slice(0, hostStart + end);
}

/** The user part of a SIP or tel URI: `+15551234567` for `sip:+15551234567@example.com`. */
function userPart(address: string): string {
  return address.replace(/^(sips?|tel):/i, "").split("@")[0] ?? "";
}

/**
 * Matches a route pattern against an address. A null pattern matches anything; `*` matches any run of
 * characters; matching ignores case and is tried against the whole URI and its user part.
 */
export function matchesSipAddress(pattern: string | null, address: string | null): boolean {
  if (pattern === null || pattern.trim() === "") {
    return true;
  }
  if (address === null) {
    return false;
  }
  const source = pattern
    .trim()
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  const regex = new RegExp(`^${source}$`, "i");
  return regex.test(address) || regex.test(userPart(address));
}
