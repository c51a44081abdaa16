// Static facts about the eight built-in step kinds (DESIGN §6). Behaviour lives in
// src/engine/steps/<kind>.ts; the registry pairs each spec with its implementation.
import type { KindSpec } from './types.js';

const agentOpts = ['agent', 'role', 'model', 'allow', 'deny', 'prompt', 'reserve', 'output'] as const;

export const BUILTIN_KINDS: readonly KindSpec[] = [
  { kind: 'agent', defaultStage: 'building', producer: true, needsProducer: false, options: [...agentOpts] },
  { kind: 'review', defaultStage: 'review', producer: false, needsProducer: true, options: ['of', 'threshold', 'maxRounds', 'agent', 'role', 'model', 'reserve'] },
  { kind: 'approval', defaultStage: 'review', producer: false, needsProducer: true, options: ['of'] },
  { kind: 'checks', defaultStage: 'testing', producer: false, needsProducer: false, options: ['maxFixes', 'agent', 'role', 'model', 'reserve'] },
  { kind: 'conflicts', defaultStage: 'testing', producer: false, needsProducer: false, options: ['maxFixes', 'agent', 'role', 'model', 'reserve'] },
  { kind: 'script', defaultStage: 'testing', producer: true, needsProducer: false, options: ['run'] },
  { kind: 'merge', defaultStage: 'testing', producer: false, needsProducer: false, options: ['policy'] },
  { kind: 'pr-review', defaultStage: 'review', producer: false, needsProducer: true, options: ['of', 'approvals', 'pollSeconds'] },
];

export const COMMON_OPTIONS: readonly string[] = ['id', 'kind', 'enabled', 'approval', 'when', 'timeout'];

export const kindMap = (specs: readonly KindSpec[] = BUILTIN_KINDS): ReadonlyMap<string, KindSpec> => new Map(specs.map((s) => [s.kind, s]));
