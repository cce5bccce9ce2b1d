const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** A moment as people read it, in UTC so that every member of a team sees the same time: "24 Aug 2019, 14:15 UTC". */
export function formatUtc(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`
}

/** What a template needs to show a moment: the readable text and the machine-readable value for `<time datetime>`. */
export interface ShownTime {
  text: string
  iso: string
}

export function shownTime(date: Date): ShownTime
export function shownTime(date: Date | null): ShownTime | null
export function shownTime(date: Date | null): ShownTime | null {
  return date === null ? null : { text: formatUtc(date), iso: date.toISOString() }
}
