import { Ajv } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

/*
 * Bodies are checked as sent: a number where a string belongs is refused,
 * not turned into one, and an unknown field is refused, not dropped.
 * Query strings and path parameters are text, so they are converted
 * (`?limit=5` is the integer 5), as everywhere else in Gatehouse.
 */
let bodies: Ajv | undefined
let urlParts: Ajv | undefined

/** The two Ajv instances are made by the first schema compiled, as the validators are compiled on first use. */
export const adminValidatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  httpPart === 'body'
    ? (bodies ??= new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false })).compile(schema)
    : (urlParts ??= new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: true, allErrors: false, strict: false })).compile(schema)
