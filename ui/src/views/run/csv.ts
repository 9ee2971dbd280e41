// CSV/TSV head parsing for the artifact preview: the first rows of a (possibly cut off) file,
// with RFC 4180 quoting (quoted fields, doubled quotes, delimiters and newlines inside quotes).

export interface CsvHead {
  /** Parsed records, the header row included; at most `maxRows + 1` of them. */
  rows: string[][]
  /** True when the text holds more records than were returned (or was cut off). */
  more: boolean
}

/** The delimiter for a file: tab for `.tsv`/`.tab` or a tab-separated media type, else comma. */
export function delimiterFor(path: string, mediaType = ''): string {
  if (/\.(tsv|tab)$/i.test(path) || mediaType.includes('tab-separated')) return '\t'
  return ','
}

/**
 * Parses up to `maxRows` data rows (after the header) of `text`. `truncated` says that `text` is
 * only the start of the file: its last record may be incomplete, so it is dropped.
 */
export function parseCsvHead(text: string, opts: { delimiter?: string; maxRows?: number; truncated?: boolean } = {}): CsvHead {
  const delim = opts.delimiter ?? ','
  const limit = (opts.maxRows ?? 50) + 1
  const truncated = opts.truncated ?? false
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  let i = 0
  const n = text.length
  // `complete` marks that the record in progress was ended by a newline, not by the end of text.
  const endRecord = () => {
    row.push(field)
    field = ''
    rows.push(row)
    row = []
  }
  while (i < n) {
    const c = text[i]
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i += 2
          continue
        }
        quoted = false
        i++
        continue
      }
      field += c
      i++
      continue
    }
    if (c === '"' && field === '') {
      quoted = true
      i++
    } else if (c === delim) {
      row.push(field)
      field = ''
      i++
    } else if (c === '\n' || c === '\r') {
      endRecord()
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1
      if (rows.length > limit) break
    } else {
      field += c
      i++
    }
  }
  const atEnd = i >= n
  if (atEnd && (field !== '' || row.length > 0 || quoted)) {
    // A last record without a trailing newline: whole unless the text was cut off.
    if (!truncated) endRecord()
  }
  let more = !atEnd || truncated
  if (rows.length > limit) {
    rows.length = limit
    more = true
  }
  // A file that ends exactly after `limit` records has no more.
  if (atEnd && !truncated && rows.length <= limit) more = false
  return { rows, more }
}
