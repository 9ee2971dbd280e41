// Unit tests of the shared formatting helpers (lib/format.ts).
import { describe, expect, it } from 'vitest'
import { fmtBytes, fmtDuration, fmtNum } from '../src/lib/format'

describe('format', () => {
  it('formats numbers compactly and non-finite values by name', () => {
    expect(fmtNum(0.123456789)).toBe('0.12346')
    expect(fmtNum(1234567)).toBe('1234567')
    expect(fmtNum(1.5e-7)).toBe('1.500e-7')
    expect(fmtNum(NaN)).toBe('NaN')
    expect(fmtNum(-Infinity)).toBe('-∞')
    expect(fmtNum('Infinity')).toBe('Infinity')
    expect(fmtNum(null)).toBe('')
  })
  it('formats durations and sizes', () => {
    expect(fmtDuration(450)).toBe('450 ms')
    expect(fmtDuration(90_000)).toBe('1m 30s')
    expect(fmtDuration(-1)).toBe('')
    expect(fmtBytes(105024)).toBe('103 KiB')
  })
})
