// How an artifact is previewed, from its media type and file name.

export type PreviewKind = 'image' | 'text' | 'json' | 'table' | 'none'

/** The most bytes fetched for a text, JSON or table preview. */
export const PREVIEW_BYTES = 64 * 1024

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg|avif|ico)$/i
const TABLE = /\.(csv|tsv|tab)$/i
const JSON_EXT = /\.(json|ipynb)$/i
const TEXT =
  /\.(txt|log|out|err|md|markdown|rst|ya?ml|toml|ini|cfg|conf|py|pyi|sh|bash|rs|js|mjs|ts|c|h|cc|cpp|hpp|java|go|rb|r|jl|lua|sql|html?|xml|css|tex|jsonl|ndjson|env|gitignore|dockerfile|diff|patch|proto|lock)$/i

export function previewKind(path: string, mediaType: string): PreviewKind {
  const mt = mediaType.toLowerCase().split(';')[0].trim()
  const name = path.split('/').pop() ?? path
  if (mt.startsWith('image/') || IMAGE.test(name)) return 'image'
  if (mt === 'text/csv' || mt === 'text/tab-separated-values' || TABLE.test(name)) return 'table'
  if (mt === 'application/json' || mt.endsWith('+json') || JSON_EXT.test(name)) return 'json'
  if (mt.startsWith('text/') || TEXT.test(name) || /^(readme|license|makefile|dockerfile)$/i.test(name)) return 'text'
  if (/(yaml|toml|xml|javascript|x-sh|x-python)/.test(mt)) return 'text'
  return 'none'
}

/** A short type label for the artifact list ("png", "csv", or the media type). */
export function typeLabel(path: string, mediaType: string): string {
  const name = path.split('/').pop() ?? path
  const dot = name.lastIndexOf('.')
  if (dot > 0 && dot < name.length - 1) return name.slice(dot + 1).toLowerCase()
  return mediaType || 'file'
}

/** JSON pretty-printed when it parses; the text as is (with `ok: false`) when it does not. */
export function prettyJson(text: string): { text: string; ok: boolean } {
  try {
    return { text: JSON.stringify(JSON.parse(text), null, 2), ok: true }
  } catch {
    return { text, ok: false }
  }
}
