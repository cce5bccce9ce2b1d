/** The parts of a V8 CPU profile (`node --cpu-prof`) a reader needs. */
interface CpuProfile {
  /** When sampling began, in microseconds of the monotonic clock that `process.hrtime` reads too. */
  startTime: number
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  totalMs: number
  busyMs: number
  /** Shares of busy time, by library or part of the runtime. */
  parts: { name: string; inclusive: number; self: number }[]
  functions: { name: string; self: number }[]
}

const IDLE = '(idle)'

/** Which library or part of the runtime a frame belongs to. */
function partOf(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const { url, functionName } = frame
  if (url === '') {
    if (functionName === '(garbage collector)') return 'garbage collection'
    if (functionName === '(program)' || functionName === IDLE || functionName === '(root)') return functionName
    return 'native (V8 built-ins)'
  }
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (module) return module[1]!
  if (url.startsWith('node:')) return 'Node.js runtime'
  const own = /\/dist\/src\/([^/]+)\//.exec(url)
  if (own) return `gatehouse ${own[1]}`
  return 'gatehouse'
}

/** Self and inclusive time per part, and the busiest functions, with idle time left out of the shares. */
export function summariseProfile(profile: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id)
  const selfByNode = new Map<number, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    total += delta
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + delta)
  })
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const functions = new Map<string, number>()
  let busy = 0
  for (const [id, time] of selfByNode) {
    const node = byId.get(id)!
    if (node.callFrame.functionName === IDLE) continue
    busy += time
    const part = partOf(node.callFrame)
    self.set(part, (self.get(part) ?? 0) + time)
    const name = `${node.callFrame.functionName || '(anonymous)'} (${part}${node.callFrame.url ? `, ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber + 1}` : ''})`
    functions.set(name, (functions.get(name) ?? 0) + time)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(partOf(byId.get(at)!.callFrame))
    seen.delete('(root)')
    for (const p of seen) inclusive.set(p, (inclusive.get(p) ?? 0) + time)
  }
  const share = (t: number) => (busy === 0 ? 0 : t / busy)
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    parts: [...inclusive.entries()]
      .map(([name, t]) => ({ name, inclusive: share(t), self: share(self.get(name) ?? 0) }))
      .filter((p) => p.inclusive >= 0.01)
      .sort((a, b) => b.inclusive - a.inclusive),
    functions: [...functions.entries()]
      .map(([name, t]) => ({ name, self: share(t) }))
      .sort((a, b) => b.self - a.self)
      .slice(0, top),
  }
}

/** Now, in microseconds of the monotonic clock a CPU profile stamps its samples with. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

/** Frames of the runtime and of V8 built-ins, which have no file of their own: their time is charged to the code that called them. */
function isRuntime(url: string): boolean {
  return url === '' || url.startsWith('node:')
}

/**
 * The share of the busy time sampled between `fromUs` and `toUs` (the
 * monotonic clock, so start-up and warm-up fall outside) that was spent in
 * code whose URL `isPart` accepts: its own frames, and the runtime and
 * built-in frames it called. What it calls back into (the next hook, a
 * wrapped function) is charged to that code, not to the part.
 */
export function shareOf(profile: CpuProfile, isPart: (url: string) => boolean, window: { fromUs: number; toUs: number }): { share: number; busyMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id)
  const charged = new Map<number, boolean>()
  const isCharged = (id: number): boolean => {
    let known = charged.get(id)
    if (known === undefined) {
      const { url } = byId.get(id)!.callFrame
      const up = parent.get(id)
      known = isRuntime(url) ? up !== undefined && isCharged(up) : isPart(url)
      charged.set(id, known)
    }
    return known
  }
  let at = profile.startTime
  let busy = 0
  let part = 0
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (at < window.fromUs || at > window.toUs || byId.get(id)!.callFrame.functionName === IDLE) return
    busy += delta
    if (isCharged(id)) part += delta
  })
  return { share: busy === 0 ? 0 : part / busy, busyMs: Math.round(busy / 1000) }
}
