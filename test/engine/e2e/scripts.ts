// The project the end-to-end tests work on: gantry.yaml with checks that start red, pipelines, and
// the scripted agent's per-role script (a reviewer that fails round 1 and passes round 2, a fixer
// that repairs the checks, a resolver that merges base and resolves the conflict by union).
export const BASE_FILES = { 'shared.txt': 'alpha\nbeta\ngamma\n', 'README.md': '# sample\n' };

export function projectYaml(o: { slow?: boolean } = {}): string {
  const nap = o.slow ? '{ run: "sleep 1" }, ' : '';
  return `
version: 1
checks:
  - { name: fixed, run: "${o.slow ? 'sleep 1; ' : ''}test -f fixed.txt && test ! -f broken.txt", timeout: 30 }
pipelines:
  other:
    steps:
      - { id: implement, kind: agent, role: implementer_b }
      - { id: conflicts, kind: conflicts }
      - { id: merge, kind: merge }
  generated:
    steps: [ { id: gen, kind: script, run: "echo gen > gen.txt && git add gen.txt && git -c user.name=g -c user.email=g@localhost commit -qm gen" }, { id: merge, kind: merge } ]
  dep-a:
    steps: [ { id: implement, kind: agent, role: dep_a }, { id: merge, kind: merge } ]
  dep-b:
    steps: [ { id: implement, kind: agent, role: dep_b }, { id: merge, kind: merge } ]
  guarded:
    steps: [ { id: implement, kind: agent, role: implementer_c, allow: ["docs/**"] }, { id: merge, kind: merge } ]
  ask:
    steps: [ { id: implement, kind: agent, role: asker }, { id: merge, kind: merge } ]
  capped:
    steps: [ { id: implement, kind: agent, role: capper }, { id: review, kind: review, role: harsh, maxRounds: 1 }, { id: merge, kind: merge, policy: manual } ]
  sleepy:
    steps: [ { id: work, kind: agent, role: sleeper }, { id: merge, kind: merge } ]
  strict:
    steps: [ { id: implement, kind: agent, role: implementer_c }, { id: checks, kind: checks, maxFixes: 0 }, { id: merge, kind: merge } ]
  full:
    steps:
      - { id: plan, kind: agent, role: planner }
      - { id: gate, kind: approval }
      - { id: implement, kind: agent, role: implementer }
      - { id: review, kind: review, of: implement, threshold: 0.8, maxRounds: 3 }
      - { id: checks, kind: checks, maxFixes: 2 }
      - { id: lint, kind: script, run: "${o.slow ? 'sleep 1; ' : ''}test -f a.txt" }
      - { id: conflicts, kind: conflicts, maxFixes: 2 }
      - { id: merge, kind: merge }
agents:
  scripted:
    roles:
      planner: [ ${nap}{ say: "Plan: touch shared.txt and add a.txt." } ]
      implementer: [ ${nap}{ write: { path: shared.txt, content: "alpha\\nTASK-A\\ngamma\\n" } }, { write: { path: a.txt, content: "a\\n" } }, { commit: "implement A" } ]
      implementer_b: [ { write: { path: shared.txt, content: "alpha\\nTASK-B\\ngamma\\n" } }, { commit: "implement B" } ]
      reviewer:
        attempts:
          - [ ${nap}{ review: { score: 4, findings: [ { severity: major, message: "explain the change" } ] } } ]
          - [ { review: { score: 9, findings: [] } } ]
      dep_a: [ { write: { path: dep-a.txt, content: "a\\n" } }, { commit: "dep a" } ]
      dep_b: [ { run: "test -f dep-a.txt" }, { write: { path: dep-b.txt, content: "b\\n" } }, { commit: "dep b" } ]
      implementer_c: [ { write: { path: c.txt, content: "c\\n" } }, { write: { path: broken.txt, content: "x\\n" } }, { commit: "c" } ]
      asker:
        attempts: [ [ { ask: { question: "Which store?", options: [ postgres, sqlite ] } } ] ]
        resumed: [ { write: { path: answer.txt, content: "resumed\\n" } }, { commit: "after the answer" } ]
      capper: [ { write: { path: cap.txt, content: "cap\\n" } }, { commit: "cap" } ]
      harsh: [ { review: { score: 0.9, findings: [ { severity: critical, message: "a blocker" } ] } } ]
      sleeper: [ { run: "sleep 60" } ]
      fixer: [ { write: { path: fixed.txt, content: "ok\\n" } }, { commit: "fix checks" } ]
      resolver: [ ${nap}{ merge: { ref: main, strategy: union } } ]
`;
}
