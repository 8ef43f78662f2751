/**
 * tap's coverage map (.taprc `coverage-map`): which files each test file's
 * processes record V8 coverage for. Every test file records the code whose
 * coverage `npm run coverage:check` enforces (.c8rc.json: src/routing,
 * src/config), also when it runs as dist/ in a spawned switchyard (mapped
 * back to src/ through the source maps). Nothing else is written: the
 * coverage files stay small and both coverage reports read less.
 */
const ENFORCED = ['src/routing/**', 'src/config/**', 'dist/routing/**', 'dist/config/**']

export default function coverageMap () {
  return ENFORCED
}
