/** One colour per backend, stable for a page: by the backend's position in the config's `backends`. */
const COLOURS = ['#2f6fdf', '#e8833a', '#3aa657', '#c2417a', '#8a63d2', '#1a9ea6', '#b58b00', '#6b7280']

export function colourOf (backend: string, order: readonly string[]): string {
  const i = order.indexOf(backend)
  return COLOURS[(i === -1 ? order.length : i) % COLOURS.length] as string
}
