// The artifact tree and the preview kinds.
import { describe, expect, it } from 'vitest'
import type { Artifact } from '../src/lib/api.svelte'
import { allDirs, ancestors, buildTree, visibleRows } from '../src/views/run/tree'
import { prettyJson, previewKind, typeLabel } from '../src/views/run/preview'

const art = (path: string, size = 10, media_type = 'application/octet-stream'): Artifact => ({ path, size, hash: '', media_type, created_ms: 0 })

describe('buildTree', () => {
  const root = buildTree([art('model.bin', 100), art('plots/b.png', 5), art('plots/a.png', 7), art('code/conf/c.yaml', 1), art('README.md', 2)])
  it('puts folders first, then files, each by name', () => {
    expect(root.children.map((c) => c.name)).toEqual(['code', 'plots', 'model.bin', 'README.md'])
  })
  it('sums sizes and counts files per folder', () => {
    expect(root.size).toBe(115)
    expect(root.files).toBe(5)
    const plots = root.children[1]
    expect(plots.kind === 'dir' && [plots.size, plots.files]).toEqual([12, 2])
  })
  it('shows only the children of expanded folders', () => {
    expect(visibleRows(root, new Set()).map((r) => r.node.path)).toEqual(['code', 'plots', 'model.bin', 'README.md'])
    const rows = visibleRows(root, new Set(['code', 'code/conf']))
    expect(rows.map((r) => [r.node.path, r.depth])).toEqual([
      ['code', 0],
      ['code/conf', 1],
      ['code/conf/c.yaml', 2],
      ['plots', 0],
      ['model.bin', 0],
      ['README.md', 0],
    ])
  })
  it('lists folders and ancestors', () => {
    expect(allDirs(root)).toEqual(['code', 'code/conf', 'plots'])
    expect(ancestors('a/b/c.txt')).toEqual(['a', 'a/b'])
    expect(ancestors('c.txt')).toEqual([])
  })
  it('builds an empty tree', () => {
    expect(buildTree([]).children).toEqual([])
  })
})

describe('previewKind', () => {
  it('knows images, tables, JSON, text and the rest', () => {
    expect(previewKind('p/a.png', 'image/png')).toBe('image')
    expect(previewKind('a.JPG', 'application/octet-stream')).toBe('image')
    expect(previewKind('t.csv', 'text/csv')).toBe('table')
    expect(previewKind('t.tsv', 'text/tab-separated-values')).toBe('table')
    expect(previewKind('c.json', 'application/json')).toBe('json')
    expect(previewKind('c.yaml', 'text/x-yaml')).toBe('text')
    expect(previewKind('train.py', 'application/octet-stream')).toBe('text')
    expect(previewKind('out.log', '')).toBe('text')
    expect(previewKind('model.safetensors', 'application/octet-stream')).toBe('none')
  })
  it('labels types by extension', () => {
    expect(typeLabel('a/b.PNG', 'image/png')).toBe('png')
    expect(typeLabel('Makefile', 'text/plain')).toBe('text/plain')
  })
  it('pretty prints JSON that parses', () => {
    expect(prettyJson('{"a":[1]}')).toEqual({ text: '{\n  "a": [\n    1\n  ]\n}', ok: true })
    expect(prettyJson('{"a":')).toEqual({ text: '{"a":', ok: false })
  })
})
