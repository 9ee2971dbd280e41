// The run's config table: params as rows, sorted naturally, filtered by key or value.
import { fmtValue } from '../../lib/format'
import { natural } from './metrics'

export interface ParamRow {
  key: string
  value: string
}

export function paramRows(params: Record<string, unknown>, filter = ''): ParamRow[] {
  const q = filter.trim().toLowerCase()
  return Object.keys(params)
    .sort(natural)
    .map((key) => ({ key, value: fmtValue(params[key]) }))
    .filter((r) => !q || r.key.toLowerCase().includes(q) || r.value.toLowerCase().includes(q))
}
