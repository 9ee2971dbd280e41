// The runs page's keyboard: / filter, ↑↓ (or j/k) move the cursor, Enter open, Space/x select,
// c compare. Keys typed into a form field, or with a modifier, are the field's or the browser's.

export type KeyCommand = 'filter' | 'down' | 'up' | 'open' | 'select' | 'compare'

/** Whether keys pressed in `t` are typing (a form field or editable content). */
export function isTyping(t: { tagName: string; isContentEditable?: boolean }): boolean {
  return t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || !!t.isContentEditable
}

/** What a key press asks of the page (null: nothing). `/` works unless typing; the rest only without a modifier. */
export function keyCommand(e: { key: string; metaKey: boolean; ctrlKey: boolean; altKey: boolean }, typing: boolean): KeyCommand | null {
  if (e.key === '/' && !typing) return 'filter'
  if (typing || e.metaKey || e.ctrlKey || e.altKey) return null
  if (e.key === 'ArrowDown' || e.key === 'j') return 'down'
  if (e.key === 'ArrowUp' || e.key === 'k') return 'up'
  if (e.key === 'Enter') return 'open'
  if (e.key === ' ' || e.key === 'x') return 'select'
  if (e.key === 'c') return 'compare'
  return null
}
