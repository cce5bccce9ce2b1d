import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify'

/*
 * Fastify compiles the validators and serializers of every route before
 * it listens, with Ajv and fast-json-stringify: most of a cold start, for
 * routes a process may not answer for hours. Here each is compiled on its
 * route's first request instead, by Fastify's own compilers.
 *
 * Fastify takes compilers given this way as custom ones, and so passes a
 * `headers` schema through as written rather than lower-casing its
 * property names first; no route declares one.
 */

type Validate = ReturnType<FastifySchemaCompiler<unknown>>

/** A compiler whose validators compile themselves when first called, and carry the real one's `errors` as Fastify reads them. */
export function compiledOnFirstUse<T>(compile: FastifySchemaCompiler<T>): FastifySchemaCompiler<T> {
  return (route) => {
    let validate: Validate | undefined
    const check = ((data: unknown) => {
      validate ??= compile(route) as Validate
      const result = validate(data)
      check.errors = validate.errors
      return result
    }) as Validate
    return check
  }
}

type Compilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>

// The published type of Ajv's pool describes Ajv's own compile; what Fastify calls, and what it returns, is a route compiler.
const validators = AjvCompiler() as unknown as (externalSchemas: unknown, options: unknown) => FastifySchemaCompiler<unknown>
const serializers = SerializerSelector()

/** Fastify's compilers, each pool made (an Ajv instance with its formats) when the first schema is compiled. */
export const compilersOnFirstUse: Compilers = {
  buildValidator: ((externalSchemas: unknown, options: unknown) => {
    let compile: FastifySchemaCompiler<unknown> | undefined
    return compiledOnFirstUse((route) => (compile ??= validators(externalSchemas, options))(route))
  }) as unknown as Compilers['buildValidator'],
  buildSerializer: (externalSchemas, options) => {
    let compile: ReturnType<typeof serializers> | undefined
    return (route) => {
      let serialize: ((document: unknown) => string) | undefined
      return (document) => (serialize ??= (compile ??= serializers(externalSchemas, options))(route))(document)
    }
  },
}
