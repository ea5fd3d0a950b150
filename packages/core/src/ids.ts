/** Creates a time-ordered id such as `evt_01936c0f8e2a7c4b9d5e3f1a2b3c4d5e`: a prefix and a UUIDv7 without dashes. */
export function newId(prefix: string): string {
  return `${prefix}_${Bun.randomUUIDv7().replaceAll("-", "")}`;
}
