import type { FastifyInstance } from 'fastify'
import { readFileSync, statSync } from 'node:fs'
import { extname } from 'node:path'
import { ConfigError, type Brand } from '../config.js'

const LOGO_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
}

const MAX_LOGO_BYTES = 512 * 1024

/** Where pages find the logo: the operator's URL as given, or the file Gatehouse serves. */
export function logoSrc(brand: Brand): string | undefined {
  if (brand.logo === undefined) return undefined
  return 'url' in brand.logo ? brand.logo.url : '/assets/logo'
}

/** The origin a logo URL is loaded from, which the pages' Content-Security-Policy lets images come from. */
export function logoOrigin(brand: Brand): string | undefined {
  return brand.logo && 'url' in brand.logo ? new URL(brand.logo.url).origin : undefined
}

function readLogo(file: string): Buffer {
  try {
    if (statSync(file).size > MAX_LOGO_BYTES) throw new ConfigError('GATEHOUSE_LOGO_URL', `${file} is larger than 512 KiB`)
    return readFileSync(file)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError('GATEHOUSE_LOGO_URL', `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/**
 * The accent colour as a stylesheet of its own: pages allow no inline
 * styles (Content-Security-Policy), and the colour is checked as a hex value
 * at start, so nothing else can reach the CSS. A logo file is read once, at
 * start, so a missing file stops the server rather than breaking pages.
 */
export function brandingRoutes(app: FastifyInstance, brand: Brand): void {
  const css = `:root { --accent: ${brand.accentColor}; }\n`
  app.get('/assets/brand.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(css))
  if (brand.logo && 'file' in brand.logo) {
    const image = readLogo(brand.logo.file)
    const type = LOGO_TYPES[extname(brand.logo.file).toLowerCase()] ?? 'application/octet-stream'
    app.get('/assets/logo', async (_request, reply) => reply.type(type).header('Cache-Control', 'public, max-age=3600').send(image))
  }
}
