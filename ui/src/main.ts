// Entry point: theme, link interception, live events, the `window.trackbench` hooks the desktop
// shell uses (export the current selection as a report), then the app.
import { mount } from 'svelte'
import './app.css'
import App from './App.svelte'
import { downloadReport } from './lib/export'
import { interceptLinks } from './lib/router.svelte'
import { selection } from './lib/selection.svelte'
import { applyTheme } from './lib/theme.svelte'

applyTheme()
interceptLinks()

declare global {
  interface Window {
    trackbench?: { selection(): string[]; exportReport(): boolean }
  }
}

window.trackbench = {
  selection: () => [...selection.ids],
  exportReport: () => downloadReport(selection.ids),
}

export default mount(App, { target: document.getElementById('app')! })
