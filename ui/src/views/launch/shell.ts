// Shell-like splitting of a command line typed in the launch form into a program and its
// arguments (no shell runs on the server: what you type here is exactly what is executed), plus
// the reverse (quoting for display) and `KEY=VALUE` line parsing for environment and tags.

export class ShellError extends Error {}

/**
 * Splits like a POSIX shell does words: whitespace separates; '…' is literal; "…" is literal
 * except `\"`, `\\`, `\$` and `` \` ``; a backslash outside quotes escapes the next character;
 * `''` and `""` give an empty argument. No variables, globs or operators: `$HOME` stays as typed.
 */
export function splitArgs(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let inWord = false
  let i = 0
  while (i < line.length) {
    const c = line[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) out.push(cur)
      cur = ''
      inWord = false
      i++
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) throw new ShellError('unterminated single quote')
      cur += line.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (c === '"') {
      inWord = true
      i++
      let closed = false
      while (i < line.length) {
        const d = line[i]
        if (d === '"') {
          closed = true
          i++
          break
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) {
          cur += line[i + 1]
          i += 2
        } else {
          cur += d
          i++
        }
      }
      if (!closed) throw new ShellError('unterminated double quote')
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new ShellError('a backslash at the end of the line')
      // A backslash-newline continues the line, as in a shell.
      if (line[i + 1] !== '\n') {
        cur += line[i + 1]
        inWord = true
      }
      i += 2
    } else {
      cur += c
      inWord = true
      i++
    }
  }
  if (inWord) out.push(cur)
  return out
}

/** Quotes one argument so `splitArgs` (and a shell) reads it back unchanged. */
export function quoteArg(a: string): string {
  if (a === '') return "''"
  if (/^[A-Za-z0-9_@%+=:,./{}-]+$/.test(a)) return a
  return `'${a.replaceAll("'", `'\\''`)}'`
}

export function joinArgs(args: string[]): string {
  return args.map(quoteArg).join(' ')
}

export interface KvResult {
  values: Record<string, string>
  errors: string[]
}

/**
 * Parses `KEY=VALUE` entries, one a line (blank lines and `#` comments skipped). `keyPattern`
 * checks the key (environment names by default); a key given twice is an error.
 */
export function parseKeyValues(text: string, what = 'variable', keyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/): KvResult {
  const values: Record<string, string> = {}
  const errors: string[] = []
  text.split('\n').forEach((raw, n) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const eq = line.indexOf('=')
    if (eq < 0) {
      errors.push(`line ${n + 1}: \`${line}\` has no \`=\` (expected KEY=VALUE)`)
      return
    }
    const key = line.slice(0, eq).trim()
    if (!keyPattern.test(key)) {
      errors.push(`line ${n + 1}: \`${key}\` is not a valid ${what} name`)
      return
    }
    if (key in values) {
      errors.push(`line ${n + 1}: \`${key}\` is given twice`)
      return
    }
    values[key] = line.slice(eq + 1).trim()
  })
  return { values, errors }
}
