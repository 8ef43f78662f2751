/**
 * `switchyard testpage VERSION`: the demo backend as its own process, so the
 * Kubernetes examples can run the app's two versions from switchyard's own
 * image (no third-party image to trust or keep in sync with the demo).
 */
import { startTestpage } from '../testpage/testpage.js'
import { output } from './output.js'

export interface TestpageOptions { host?: string, port?: number }

/** How long in-flight requests get after SIGTERM before the process exits anyway. */
const DRAIN_MS = 10_000

export async function testpageCommand (version: string, opts: TestpageOptions): Promise<number> {
  const page = await startTestpage(version, opts.port ?? 8080, opts.host ?? '0.0.0.0')
  output().out(`testpage ${version} listening on ${page.url}\n`)
  // Node as PID 1 in a container gets no default SIGTERM action, so without
  // this handler the pod would wait out its whole grace period.
  const stop = (): void => {
    page.server.close(() => process.exit(0))
    page.server.closeIdleConnections()
    setTimeout(() => process.exit(0), DRAIN_MS).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  return 0
}
