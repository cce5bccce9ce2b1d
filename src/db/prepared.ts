/**
 * The SQL texts of the hot-path statements, each with the name PostgreSQL
 * prepares it under: a named statement is parsed and planned once per
 * connection instead of on every run. Only these few fixed texts are named,
 * so the statements a connection keeps stay few.
 */
const names = new Map<string, string>()

export function markPrepared(sqlText: string): void {
  if (!names.has(sqlText)) names.set(sqlText, `gatehouse_${names.size + 1}`)
}

export function preparedName(sqlText: string): string | undefined {
  return names.get(sqlText)
}
