// Run colours: a fixed qualitative palette, assigned by position so a run keeps its colour
// across the charts of one view.

export const PALETTE = [
  '#2563eb', '#e4572e', '#17a398', '#f2a541', '#8e44ad', '#c0392b', '#27ae60', '#d35400',
  '#2c3e50', '#16a085', '#e84393', '#7f8c8d', '#0984e3', '#b8860b', '#6c5ce7', '#00b894',
]

export function colour(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length]
}
