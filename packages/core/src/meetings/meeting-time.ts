export const defaultMeetingMinutes = 30;

/**
 * Earliest start and latest end of a meeting. Dates are sent to Postgres as `toISOString()` text, and
 * Postgres rejects that text for year 0 and earlier and for the six-digit years after 9999.
 */
const earliestMeetingStart = Date.parse("0001-01-01T00:00:00Z");
const latestMeetingEnd = Date.parse("9999-12-31T23:59:59.999Z");

/**
 * Checks that a meeting starting at `startsAt` and lasting `durationMinutes` can be stored. It must start
 * in the year 0001 or later and end by the end of 9999, both in UTC. Returns the problem as a message
 * that follows the field name, or null when the time is fine.
 */
export function meetingTimeProblem(startsAt: Date, durationMinutes: number): string | null {
  const start = startsAt.getTime();
  if (Number.isNaN(start)) {
    return "must be a valid time";
  }
  const end = start + durationMinutes * 60_000;
  if (start >= earliestMeetingStart && end <= latestMeetingEnd) {
    return null;
  }
  return (
    `${startsAt.toISOString()} (in UTC) is out of range. A meeting must start at or after ` +
    "0001-01-01T00:00:00Z and end by 9999-12-31T23:59:59Z, so send a time within those years."
  );
}
