// The launch page's form state, kept at module level so switching tabs or leaving the page and
// coming back keeps what was typed. The last project used is remembered across reloads.

import { defaultAb, defaultCommand, defaultCommon, defaultSweep } from './forms'

const PROJECT_KEY = 'trackbench.launch.project'

function savedProject(): string {
  try {
    return localStorage.getItem(PROJECT_KEY) ?? ''
  } catch {
    return ''
  }
}

export function rememberProject(p: string) {
  try {
    localStorage.setItem(PROJECT_KEY, p)
  } catch {
    /* private mode: nothing to remember */
  }
}

export const forms = $state({
  common: defaultCommon(savedProject()),
  command: defaultCommand(),
  sweep: defaultSweep(),
  ab: defaultAb(),
})
