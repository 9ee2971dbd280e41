// Report export: the server renders the self-contained HTML report; the browser downloads it
// (the desktop shell intercepts the download and asks where to save it).
import { api } from './api.svelte'

/** Starts a download of the HTML report of `ids`; false when there is nothing to export. */
export function downloadReport(ids: string[]): boolean {
  if (ids.length === 0) return false
  const a = document.createElement('a')
  a.href = api.reportUrl(ids)
  a.download = ''
  document.body.append(a)
  a.click()
  a.remove()
  return true
}
