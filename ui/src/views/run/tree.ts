// The artifact tree: artifact paths ("plots/a.png") folded into folders, and the visible rows of
// that tree for a set of expanded folders.
import type { Artifact } from '../../lib/api.svelte'

export interface FileNode {
  kind: 'file'
  name: string
  path: string
  artifact: Artifact
}

export interface DirNode {
  kind: 'dir'
  name: string
  /** The folder's path without a trailing slash ("" for the root). */
  path: string
  children: TreeNode[]
  /** Total size and number of files below this folder. */
  size: number
  files: number
}

export type TreeNode = FileNode | DirNode

export function buildTree(artifacts: Artifact[]): DirNode {
  const root: DirNode = { kind: 'dir', name: '', path: '', children: [], size: 0, files: 0 }
  const dirs = new Map<string, DirNode>([['', root]])
  for (const a of artifacts) {
    const parts = a.path.split('/').filter(Boolean)
    if (parts.length === 0) continue
    let parent = root
    let prefix = ''
    for (const part of parts.slice(0, -1)) {
      prefix = prefix ? `${prefix}/${part}` : part
      let d = dirs.get(prefix)
      if (!d) {
        d = { kind: 'dir', name: part, path: prefix, children: [], size: 0, files: 0 }
        dirs.set(prefix, d)
        parent.children.push(d)
      }
      parent = d
    }
    parent.children.push({ kind: 'file', name: parts[parts.length - 1], path: a.path, artifact: a })
  }
  const finish = (d: DirNode) => {
    d.size = 0
    d.files = 0
    for (const c of d.children) {
      if (c.kind === 'dir') {
        finish(c)
        d.size += c.size
        d.files += c.files
      } else {
        d.size += c.artifact.size
        d.files += 1
      }
    }
    d.children.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1))
  }
  finish(root)
  return root
}

export interface TreeRow {
  node: TreeNode
  depth: number
}

/** The rows to show: the root's children, and the children of every expanded folder. */
export function visibleRows(root: DirNode, expanded: Set<string>): TreeRow[] {
  const out: TreeRow[] = []
  const walk = (d: DirNode, depth: number) => {
    for (const c of d.children) {
      out.push({ node: c, depth })
      if (c.kind === 'dir' && expanded.has(c.path)) walk(c, depth + 1)
    }
  }
  walk(root, 0)
  return out
}

/** The folders that contain `path` ("a/b/c.txt" -> ["a", "a/b"]), to reveal a selected file. */
export function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean)
  const out: string[] = []
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'))
  return out
}

/** Every folder path of the tree (to expand all). */
export function allDirs(root: DirNode): string[] {
  const out: string[] = []
  const walk = (d: DirNode) => {
    for (const c of d.children)
      if (c.kind === 'dir') {
        out.push(c.path)
        walk(c)
      }
  }
  walk(root)
  return out
}
