// Log search: which lines match a query (substring, case-insensitive) and how to split a line
// into plain and highlighted parts. One case-insensitive RegExp does both, so the lines kept and
// the parts highlighted always agree (and indices stay right where lower-casing changes lengths).

export interface Segment {
  text: string
  match: boolean
}

/** A case-insensitive literal matcher for `query` (`g` for highlighting); null for an empty query. */
export function matcher(query: string, flags = 'i'): RegExp | null {
  if (!query) return null
  return new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), flags)
}

/** Indices of the lines that contain `query` (all lines when the query is empty). */
export function matchingLines(lines: readonly { line: string }[], query: string): number[] {
  return appendMatches([], lines, 0, query)
}

/** Extends `matches` (indices into `lines`) with the matching lines from index `from` on. */
export function appendMatches(matches: number[], lines: readonly { line: string }[], from: number, query: string): number[] {
  const re = matcher(query)
  for (let i = from; i < lines.length; i++) if (!re || re.test(lines[i].line)) matches.push(i)
  return matches
}

/** `line` split around every non-overlapping, case-insensitive occurrence of `query`. */
export function highlight(line: string, query: string): Segment[] {
  const re = matcher(query, 'gi')
  if (!re) return [{ text: line, match: false }]
  const out: Segment[] = []
  let at = 0
  for (const m of line.matchAll(re)) {
    const i = m.index ?? 0
    if (i > at) out.push({ text: line.slice(at, i), match: false })
    out.push({ text: m[0], match: true })
    at = i + m[0].length
  }
  if (at < line.length || out.length === 0) out.push({ text: line.slice(at), match: false })
  return out
}
