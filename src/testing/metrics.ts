/** One scrape of a Prometheus text endpoint: each series as printed (`name{labels}`) and its value. */
export type Scrape = Map<string, number>

export async function scrapeMetrics(managementUrl: string): Promise<{ text: string; series: Scrape; contentType: string | null }> {
  const response = await fetch(new URL('/metrics', managementUrl))
  const text = await response.text()
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${text}`)
  return { text, series: parseMetrics(text), contentType: response.headers.get('content-type') }
}

export function parseMetrics(text: string): Scrape {
  const series: Scrape = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    series.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return series
}

/** How much each series grew between two scrapes; a series missing from `after` throws, so a family that vanished is noticed. */
export function growth(before: Scrape, after: Scrape, name: string): number {
  const now = after.get(name)
  if (now === undefined) throw new Error(`no series ${name} in the scrape`)
  return now - (before.get(name) ?? 0)
}
