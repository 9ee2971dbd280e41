// What the Compare view knows about each compared run (shared by its panels).
import type { RunDetail } from '../../lib/api.svelte'

export interface CompareRun {
  id: string
  name: string
  colour: string
  detail: RunDetail
}
