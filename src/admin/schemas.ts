/**
 * The admin API's request bodies. Compiled at build time like the config
 * schema (src/config/generated/admin-validators.ts), so the admin listener
 * loads no schema compiler; here for the generator and for the static types.
 */
import { Type, type Static } from '@sinclair/typebox'

export const ConfigBody = Type.Union([Type.String(), Type.Object({}, { additionalProperties: true })])
export const WeightsBody = Type.Object({
  weights: Type.Record(Type.String({ pattern: '^.+$' }), Type.Integer({ minimum: 0, maximum: 1_000_000 }), { additionalProperties: false, minProperties: 1 })
}, { additionalProperties: false })
export const PromoteBody = Type.Object({ backend: Type.String({ minLength: 1 }) }, { additionalProperties: false })
export const UndoBody = Type.Object({ toRevision: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })
const SyntheticRequestSchema = Type.Object({
  method: Type.Optional(Type.String({ pattern: '^[A-Za-z]+$' })),
  host: Type.Optional(Type.String()),
  path: Type.Optional(Type.String({ pattern: '^/' })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  cookies: Type.Optional(Type.Record(Type.String(), Type.String()))
}, { additionalProperties: false })
export const ExplainBody = Type.Object({ request: SyntheticRequestSchema, config: Type.Optional(ConfigBody) }, { additionalProperties: false })
export const DiffBody = Type.Object({ config: ConfigBody }, { additionalProperties: false })

const Percent = Type.Integer({ minimum: 1, maximum: 100 })
const Metric = Type.Object({ delta: Type.Optional(Type.Number()), tolerance: Type.Optional(Type.Number()) }, { additionalProperties: false })
/** The judge's settings (docs/judge.md); ranges are checked by judgeConfigProblems, with every problem at once. */
const JudgeSettingsSchema = Type.Object({
  alpha: Type.Optional(Type.Number()),
  errors: Type.Optional(Metric),
  latency: Type.Optional(Metric),
  quantile: Type.Optional(Type.Number()),
  sloSeconds: Type.Optional(Type.Number()),
  minRequests: Type.Optional(Type.Integer()),
  minStepMs: Type.Optional(Type.Number()),
  maxStepMs: Type.Optional(Type.Number()),
  maxErrorRate: Type.Optional(Type.Number()),
  maxLatencySeconds: Type.Optional(Type.Number()),
  srmAlpha: Type.Optional(Type.Number()),
  srmTolerance: Type.Optional(Type.Number()),
  prior: Type.Optional(Type.Object({ a: Type.Number(), b: Type.Number() }, { additionalProperties: false }))
}, { additionalProperties: false })
export const RolloutBody = Type.Object({
  route: Type.String({ minLength: 1 }),
  backend: Type.String({ minLength: 1 }),
  baseline: Type.Optional(Type.String({ minLength: 1 })),
  steps: Type.Array(Percent, { minItems: 1, maxItems: 100 }),
  pauseAt: Type.Optional(Type.Array(Percent, { maxItems: 100 })),
  judge: Type.Optional(JudgeSettingsSchema)
}, { additionalProperties: false })
export const RolloutPromoteBody = Type.Object({ full: Type.Optional(Type.Boolean()) }, { additionalProperties: false })

export type WeightsBodyT = Static<typeof WeightsBody>
export type PromoteBodyT = Static<typeof PromoteBody>
export type UndoBodyT = Static<typeof UndoBody>
export type ExplainBodyT = Static<typeof ExplainBody>
export type DiffBodyT = Static<typeof DiffBody>
export type ConfigBodyT = Static<typeof ConfigBody>
export type RolloutBodyT = Static<typeof RolloutBody>
export type RolloutPromoteBodyT = Static<typeof RolloutPromoteBody>

/** Name → schema, the set the generator compiles (the export names of the generated module). */
export const ADMIN_BODIES = {
  validateConfigBody: ConfigBody,
  validateWeightsBody: WeightsBody,
  validatePromoteBody: PromoteBody,
  validateUndoBody: UndoBody,
  validateExplainBody: ExplainBody,
  validateDiffBody: DiffBody,
  validateRolloutBody: RolloutBody,
  validateRolloutPromoteBody: RolloutPromoteBody
} as const
