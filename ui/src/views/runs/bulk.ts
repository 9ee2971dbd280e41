// What the runs page does with the selected runs: compare them, or tag or delete them in bulk
// (a tag given as `key=value`, `key` alone meaning `key=true`, `key=` removing the tag).
import { api } from '../../lib/api.svelte'
import { hrefs, navigate } from '../../lib/router.svelte'
import { selection, setSelection } from '../../lib/selection.svelte'

/** Opens the compare view of the selection (across projects), if any. */
export function compareSelection() {
  if (selection.ids.length) navigate(hrefs.compare(selection.ids))
}

/** A tag edit typed as `key=value`: the value null removes the tag; null when there is no key. */
export function parseTagSpec(spec: string): { key: string; value: string | null } | null {
  const eq = spec.indexOf('=')
  const key = (eq < 0 ? spec : spec.slice(0, eq)).trim()
  const value = eq < 0 ? 'true' : spec.slice(eq + 1).trim()
  if (!key) return null
  return { key, value: value === '' ? null : value }
}

/** Tags every run of `ids`; returns what to tell the user. */
export async function tagRuns(ids: string[], tag: { key: string; value: string | null }): Promise<string> {
  try {
    for (const id of ids) await api.edit(id, { tags: { [tag.key]: tag.value } })
    return `Tagged ${ids.length} run(s) ${tag.key}${tag.value !== null ? '=' + tag.value : ' (removed)'}.`
  } catch (e) {
    return `Tagging failed: ${e instanceof Error ? e.message : e}`
  }
}

/** Deletes every run of `ids` (and drops them from the selection); returns what to tell the user. */
export async function deleteRuns(ids: string[]): Promise<string> {
  try {
    for (const id of ids) await api.remove(id)
    setSelection(selection.ids.filter((id) => !ids.includes(id)))
    return `Deleted ${ids.length} run(s).`
  } catch (e) {
    return `Delete failed: ${e instanceof Error ? e.message : e}`
  }
}
