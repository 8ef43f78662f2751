/**
 * The seam to the fleet's leader election: rollouts are judged and moved
 * only by the instance that leads, so two replicas never step the same
 * rollout. A single instance (a file source) is always its own leader; the
 * fleet's election plugs in here.
 */
export interface Leadership {
  /** True while this instance leads; checked before every look. */
  isLeader (): boolean
}

export const SOLE_LEADER: Leadership = Object.freeze({ isLeader: () => true })
