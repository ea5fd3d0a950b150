/**
 * Normalises a non-negative decimal string so equal amounts compare equal as text: "0499.50",
 * "499.5" and "499.500000" all become "499.5". Returns null for anything that is not such a number.
 */
export function normalizeDecimal(value: string): string | null {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) {
    return null;
  }
  const whole = (match[1] ?? "0").replace(/^0+(?=\d)/, "");
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}
