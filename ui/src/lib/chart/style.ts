// Small presentation helpers for charts: translucent run colours and compact time-axis labels.

/** `#rgb`/`#rrggbb` with an alpha, as rgba(); other colour strings are returned unchanged. */
export function withAlpha(colour: string, alpha: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour.trim())
  if (!m) return colour
  let h = m[1]
  if (h.length === 3) h = h.replace(/./g, (c) => c + c)
  const n = parseInt(h, 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}

/** Seconds since the run started, as an axis label: 42s, 3m 20s, 2h 5m. */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return ''
  const sign = s < 0 ? '-' : ''
  const a = Math.abs(s)
  if (a < 60) return `${sign}${Number(a.toPrecision(3))}s`
  if (a < 3600) {
    const m = Math.floor(a / 60)
    const r = Math.round(a - m * 60)
    return `${sign}${m}m${r ? ` ${r}s` : ''}`
  }
  const h = Math.floor(a / 3600)
  const m = Math.round((a - h * 3600) / 60)
  return `${sign}${h}h${m ? ` ${m}m` : ''}`
}

/** A compact axis tick label: 0.25, 1200, 1.5e6, 1e-4 (never wider than about 7 characters). */
export function fmtTick(v: number): string {
  if (!Number.isFinite(v)) return ''
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e6 || a < 1e-3) {
    const [m, e] = v.toExponential(2).split('e')
    return `${Number(m)}e${Number(e)}`
  }
  return String(Number(v.toPrecision(4)))
}
