// The typed client for logged datasets and drift (`/api/v1/runs/{id}/datasets`,
// `/api/v1/runs/{id}/datasets/{name}`, `/api/v1/drift`). Shapes follow the server's openapi.json;
// every number in them (summaries, chart shares, statistics, verdicts) is the server's.

import { get } from './api.svelte'

/** One logged profile of a run, as listed. */
export interface DatasetEntry {
  name: string
  digest: string
  context: string | null
  step: number | null
  /** Null for an input without a Trackbench profile (logged by an MLflow client). */
  rows: number | null
  /** The column count. */
  columns: number | null
  profiled: boolean
  /** Why an input is not profiled. */
  note: string | null
}

export type ChartData =
  | {
      kind: 'numeric'
      /** `bins + 1` edges; the last bin includes its upper edge. */
      edges: number[]
      /** Per profile, each bin's share of its finite values. */
      shares: number[][]
      /** Per profile, the CDF at each edge. */
      cdf: number[][]
      /** Per profile, the largest error of a bin's share (0 where exact). */
      error: number[]
    }
  | {
      kind: 'categorical'
      labels: string[]
      shares: number[][]
      /** Per profile, the share of every category not listed. */
      other: number[]
      error: number[]
    }
  | { kind: 'none'; why: string }

/** One column's summary row and chart. */
export interface ColumnOverview {
  name: string
  dtype: 'float' | 'int' | 'bool' | 'string' | 'null'
  count: number
  nulls: number
  /** Exact where `exact`, else the HLL estimate. */
  distinct: number
  exact: boolean
  nan: number | null
  pos_inf: number | null
  neg_inf: number | null
  min: number | null
  max: number | null
  mean: number | null
  std: number | null
  /** The 5th, 25th, 50th, 75th and 95th percentiles (numeric columns). */
  quantiles: number[] | null
  /** The most frequent categories with their counts (categorical columns). */
  top: [string, number][]
  chart: ChartData
}

export interface DatasetProfile {
  run: string
  name: string
  digest: string
  context: string | null
  step: number | null
  /** Every step this name was logged at. */
  steps: number[]
  rows: number
  columns: ColumnOverview[]
}

export type TestName = 'auto' | 'ks' | 'chi2' | 'wasserstein' | 'js' | 'psi'

export interface ColumnDrift {
  column: string
  ref_dtype: string | null
  cur_dtype: string | null
  /** Null: not tested (`notes` say why). */
  test: Exclude<TestName, 'auto'> | null
  /** Why this test: the user's choice, or `auto`'s reasoning. */
  reason: string
  statistic: number | null
  p_value: number | null
  threshold: number | null
  drift: boolean | null
  exact: boolean
  error_bound: number | null
  wasserstein: number | null
  psi_band: 'none' | 'moderate' | 'major' | null
  ref_n: number
  cur_n: number
  notes: string[]
}

export interface DriftReport {
  columns: ColumnDrift[]
  tested: number
  drifted: number
  share: number | null
  drift_share: number
  drift: boolean
}

export interface DriftSide {
  spec: string
  run: string
  run_name: string
  project: string
  dataset: string
  digest: string
  context: string | null
  step: number | null
  rows: number
}

export interface DriftResult {
  reference: DriftSide
  current: DriftSide
  options: { test: TestName; thresholds: Record<string, number>; drift_share: number; columns: string[] | null }
  report: DriftReport
  /** Per column, both profiles' chart on shared bins (series 0 the reference, 1 the current). */
  charts: Record<string, ChartData>
}

export interface DriftQuery {
  reference: string
  current: string
  test?: string | null
  /** `NAME=VALUE[,NAME=VALUE…]`. */
  threshold?: string | null
  columns?: string | null
}

const enc = (v: string) => encodeURIComponent(v)

export const dataApi = {
  datasets: (run: string) => get<{ run: string; datasets: DatasetEntry[] }>(`/api/v1/runs/${enc(run)}/datasets`).then((r) => r.datasets ?? []),
  dataset: (run: string, name: string, step: number | null) =>
    get<DatasetProfile>(`/api/v1/runs/${enc(run)}/datasets/${enc(name)}`, { step }),
  drift: (q: DriftQuery) => get<DriftResult>('/api/v1/drift', { ...q }),
}
