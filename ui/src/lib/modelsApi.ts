// The typed client for the model registry (`/api/v1/models`) and for promoting an A/B test's
// winner (`POST /api/v1/ab/{id}/promote`). Shapes follow the server's openapi.json.

import { get, post } from './api.svelte'

/** A registered model as listed: its version count and latest version come with it. */
export interface RegisteredModel {
  name: string
  description: string | null
  created_ms: number
  updated_ms: number
  tags: Record<string, string>
  /** Alias → version number. */
  aliases: Record<string, number>
}

export interface ModelSummary extends RegisteredModel {
  /** How many versions it has. */
  versions: number
  latest_version: number | null
}

/** One version of a registered model. */
export interface ModelVersion {
  name: string
  version: number
  /** Where the files are: `models:/m-…`, `runs:/RUN/PATH`, or a location. */
  source: string
  run: string | null
  logged_model: string | null
  description: string | null
  /** MLflow's legacy stage: `None`, `Staging`, `Production` or `Archived`. */
  stage: string
  created_ms: number
  updated_ms: number
  tags: Record<string, string>
  aliases: string[]
}

/** The run behind a version, when it still exists. */
export interface VersionRunInfo {
  id: string
  name: string
  project: string
  status: string
}

export interface ModelVersionDetail extends ModelVersion {
  run_info: VersionRunInfo | null
  /** The A/B test the version was promoted from. */
  ab_id: string | null
}

/** One model and its versions, newest first. */
export interface ModelDetail {
  model: RegisteredModel
  versions: ModelVersionDetail[]
}

export interface PromoteRequest {
  /** The registered model (created when missing). */
  name: string
  alias?: string
  /** Register B's best run even though the verdict is not that B is better. */
  force?: boolean
}

/** What promoting an A/B's winner registered. */
export interface Promotion {
  version: ModelVersion
  /** B's best run, the version's source. */
  run: string
  /** Its value of the A/B's metric ("NaN"/"Infinity" as strings). */
  value: number | string | null
  /** True when the verdict did not say B is better and `force` promoted it anyway. */
  forced: boolean
}

const enc = (v: string | number) => encodeURIComponent(String(v))

export const modelsApi = {
  list: () => get<{ models: ModelSummary[] }>('/api/v1/models').then((r) => r.models ?? []),
  model: (name: string) => get<ModelDetail>(`/api/v1/models/${enc(name)}`),
  promote: (abId: string, body: PromoteRequest) => post<Promotion>(`/api/v1/ab/${enc(abId)}/promote`, body),
}
