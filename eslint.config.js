import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/*
 * Folder map of src/, from the bottom up. Imports go one way: a folder may
 * import only the folders LAYERS lists for it (and errors.ts, open to all).
 *
 *   util, testpage,  leaves: import nothing of src/ (testpage: the demo backend;
 *   judge            judge: the rollout judge, pure)
 *   fleet            the fleet's routing stores (etcd, Kubernetes API): util only
 *   config           the config document: schema, parsing with locations, validation, text edits, summaries
 *   routing          compiled routing table, decide(), explain(), traffic diff, text -> table (build.ts)
 *   proxy            the data path: HTTP server, Exchange, active config with its pools, health checks  | data
 *   dataplane        the data plane: proxy listener, active config, target health, drain              | plane
 *   observability    metrics, logger, access and error logs, tracing (listeners of the proxy)
 *   link             the plane link: link.ts (the interface) and its in-process and IPC implementations
 *   control          live config, revision history, operations service, config sources  | control
 *   admin            the admin listener: HTTP adapter over the operations service        | plane
 *   app              the composition root: createSwitchyard()
 *   commands         the CLI's commands (cli.ts wires them to commander)
 *   demo             npm run demo:rollout
 *
 * The data plane imports routing and nothing of the control plane; the
 * control plane reaches data planes only through src/link/link.ts.
 * Any import against LAYERS is a back-edge: `npm run lint` fails on it
 * (no-restricted-imports, generated per folder below).
 * docs/development.md shows the same map.
 */
const LAYERS = {
  util: [],
  testpage: [],
  judge: [],
  fleet: ['util'],
  config: ['util'],
  routing: ['config', 'util'],
  proxy: ['routing', 'config', 'util'],
  observability: ['proxy', 'routing', 'config', 'util'],
  dataplane: ['observability', 'proxy', 'routing', 'config', 'util'],
  link: ['dataplane', 'routing', 'config', 'util'],
  control: ['link', 'routing', 'config', 'judge', 'fleet', 'util'],
  admin: ['control', 'link', 'observability', 'routing', 'config', 'util'],
  app: ['admin', 'control', 'link', 'dataplane', 'observability', 'routing', 'config', 'testpage', 'judge', 'fleet', 'util'],
  commands: ['app', 'admin', 'control', 'link', 'routing', 'config', 'testpage', 'judge', 'fleet', 'util'],
  demo: ['commands', 'testpage', 'config', 'util']
}
/** The control plane sees the plane link's interface, not how it is carried. */
const CONTROL_LINK_ONLY = { regex: '^(\\.\\.?/)+link/(?!link\\.js$)', message: 'the control plane imports only src/link/link.ts (the interface), never a link implementation' }

const folderRules = Object.entries(LAYERS).map(([folder, allowed]) => {
  const forbidden = Object.keys(LAYERS).filter(f => f !== folder && !allowed.includes(f))
  // A relative import that climbs into a forbidden folder (or to the CLI entry): `../proxy/x.js`, `../../app/y.js`.
  const patterns = [
    { regex: `^(\\.\\.?/)+(${[...forbidden.map(f => `${f}/`), 'cli\\.js$'].join('|')})`, message: `src/${folder} may import only ${allowed.length === 0 ? 'errors.ts' : allowed.join(', ')} (see the folder map at the top of eslint.config.js)` },
    ...(folder === 'control' ? [CONTROL_LINK_ONLY] : [])
  ]
  return { files: [`src/${folder}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } }
})

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'dist-build/', 'src/config/generated/', 'coverage/', '.tap/', 'node_modules/', 'bench/results/', 'bench/peers/node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', Buffer: 'readonly', URL: 'readonly' }
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }]
    }
  },
  ...folderRules,
  {
    // Commands print through output(), so runProgram()'s caller (a test) receives what they print.
    files: ['src/commands/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'process', property: 'stdout', message: 'write through output() from src/commands/output.ts' },
        { object: 'process', property: 'stderr', message: 'write through output() from src/commands/output.ts' }]
    }
  }
)
