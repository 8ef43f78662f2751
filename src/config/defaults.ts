/** Listener defaults, shared by the schema (documentation) and the runtime (no schema library needed to read them). */
export const DEFAULT_LISTEN = { host: '0.0.0.0', port: 8080 } as const
export const DEFAULT_ADMIN = { host: '127.0.0.1', port: 9901 } as const
