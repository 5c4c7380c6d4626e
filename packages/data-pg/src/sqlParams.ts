/**
 * Collects the parameters and WHERE conditions of a query built from optional filters:
 * `param(value)` adds a parameter and returns its `$n` placeholder. Values are always bound,
 * never spliced into the SQL text.
 */
export function sqlParams(first: readonly unknown[] = []) {
  const params: unknown[] = [...first];
  const where: string[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  return { params, where, param };
}
