const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * A moment as people read it, in UTC so that every member of a team sees the
 * same time: "24 Aug 2019, 14:15 UTC", or with seconds where the order of
 * events matters (the activity log): "24 Aug 2019, 14:15:22 UTC".
 */
export function formatUtc(date: Date, precision: 'minutes' | 'seconds' = 'minutes'): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  const seconds = precision === 'seconds' ? `:${pad(date.getUTCSeconds())}` : ''
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}${seconds} UTC`
}

/** What a template needs to show a moment: the readable text and the machine-readable value, to the millisecond, for `<time datetime>`. */
export interface ShownTime {
  text: string
  iso: string
}

export function shownTime(date: Date, precision?: 'minutes' | 'seconds'): ShownTime
export function shownTime(date: Date | null, precision?: 'minutes' | 'seconds'): ShownTime | null
export function shownTime(date: Date | null, precision: 'minutes' | 'seconds' = 'minutes'): ShownTime | null {
  return date === null ? null : { text: formatUtc(date, precision), iso: date.toISOString() }
}
