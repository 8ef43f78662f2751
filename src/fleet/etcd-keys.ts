/** Key names under the store's prefix (see etcd-store.ts for the layout). */
export const CONFIG_KEY = 'config'
export const META_KEY = 'config.meta'
export const HISTORY_PREFIX = 'history/'
export const MEMBERS_PREFIX = 'members/'
export const ELECTION_PREFIX = 'election/'

/** Zero-padded so that etcd's key order is revision order. */
export const historyKey = (revision: number): string => HISTORY_PREFIX + String(revision).padStart(10, '0')
export const ROLLOUTS_PREFIX = 'rollouts/'
