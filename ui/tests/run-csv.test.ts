// The artifact preview's CSV/TSV head parser.
import { describe, expect, it } from 'vitest'
import { delimiterFor, parseCsvHead } from '../src/views/run/csv'

describe('parseCsvHead', () => {
  it('parses plain rows', () => {
    expect(parseCsvHead('a,b\n1,2\n3,4\n')).toEqual({ rows: [['a', 'b'], ['1', '2'], ['3', '4']], more: false })
  })
  it('keeps a last record without a newline', () => {
    expect(parseCsvHead('a,b\n1,2').rows).toEqual([['a', 'b'], ['1', '2']])
  })
  it('handles quotes, doubled quotes, delimiters and newlines in quotes', () => {
    const t = 'name,note\n"x, y","say ""hi"""\n"multi\nline",z\n'
    expect(parseCsvHead(t).rows).toEqual([['name', 'note'], ['x, y', 'say "hi"'], ['multi\nline', 'z']])
  })
  it('handles CRLF, empty fields and a BOM', () => {
    expect(parseCsvHead('\ufeffa,b,c\r\n1,,3\r\n,,\r\n').rows).toEqual([['a', 'b', 'c'], ['1', '', '3'], ['', '', '']])
  })
  it('stops after maxRows data rows and says there are more', () => {
    const t = 'h\n' + Array.from({ length: 100 }, (_, i) => `${i}\n`).join('')
    const r = parseCsvHead(t, { maxRows: 50 })
    expect(r.rows.length).toBe(51)
    expect(r.rows[50]).toEqual(['49'])
    expect(r.more).toBe(true)
  })
  it('says no more when exactly maxRows rows exist', () => {
    const t = 'h\n' + Array.from({ length: 3 }, (_, i) => `${i}\n`).join('')
    expect(parseCsvHead(t, { maxRows: 3 })).toEqual({ rows: [['h'], ['0'], ['1'], ['2']], more: false })
  })
  it('drops the incomplete last record of cut-off text', () => {
    const r = parseCsvHead('a,b\n1,2\n3,"unfinished', { truncated: true })
    expect(r.rows).toEqual([['a', 'b'], ['1', '2']])
    expect(r.more).toBe(true)
  })
  it('parses tab-separated text', () => {
    expect(parseCsvHead('a\tb\n"1\t2"\t3\n', { delimiter: '\t' }).rows).toEqual([['a', 'b'], ['1\t2', '3']])
  })
  it('parses empty text to no rows', () => {
    expect(parseCsvHead('')).toEqual({ rows: [], more: false })
  })
})

describe('delimiterFor', () => {
  it('picks tab for tsv', () => {
    expect(delimiterFor('x/pred.tsv')).toBe('\t')
    expect(delimiterFor('x', 'text/tab-separated-values')).toBe('\t')
    expect(delimiterFor('x.csv', 'text/csv')).toBe(',')
  })
})
