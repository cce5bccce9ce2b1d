import { Eta } from 'eta'
import { fileURLToPath } from 'node:url'

const eta = new Eta({
  views: fileURLToPath(new URL('../../views', import.meta.url)),
  autoEscape: true,
  cache: true,
})

export function render(template: string, data: Record<string, unknown>): string {
  return eta.render(template, data)
}
