// What every evidence source (agent protocol, hooks, process probes, transcripts) reports to the
// lifecycle manager. Confidence is explicit so a stale or failed probe never reads as proof.
export type Confidence = 'valid' | 'stale' | 'unavailable';
export type ObservationSource = 'protocol' | 'hook' | 'transcript' | 'process' | 'terminal' | 'scm';

export interface Observation<V> {
  value: V;
  confidence: Confidence;
  source: ObservationSource;
  /** Epoch ms when the evidence was produced. */
  at: number;
  /** The session launch this evidence belongs to; older generations are ignored. */
  launchGeneration: number;
}
