// The demo's tasks and the order they are submitted in. "Greet in French" plans first and parks for
// approval; only then is "Make the greeting enthusiastic" submitted, so its merge always lands on
// the line the French branch also changed → a real conflict the resolver repairs.
export interface DemoTask {
  key: string;
  title: string;
  body: string;
  pipeline: string;
  /** Keys of demo tasks this one depends on (`after:`). */
  after: string[];
  /** Submitted once this task's run has parked (its branch is forked from the old base). */
  submitWhenParked?: string;
  /** With --exit-when-done, its approval is given once these have shipped. */
  approveAfterShipped?: string[];
  /** What it shows, for the intro and the docs. */
  shows: string;
}

export const DEMO_TASKS: readonly DemoTask[] = [
  {
    key: 'french', title: 'Greet in French', pipeline: 'standard', after: [], approveAfterShipped: ['excited'],
    body: "greet('Ada') should return 'Bonjour, Ada'. Update the test and the README.",
    shows: 'plan waits for your approval; review fails round 1, passes round 2; conflict resolved',
  },
  {
    key: 'shout', title: 'Add shout()', pipeline: 'shout', after: [],
    body: "Add shout(text) in src/shout.js: shout('ship it') is 'SHIP IT!'. With a test.",
    shows: 'checks go red, a fixer repairs them',
  },
  {
    key: 'excited', title: 'Make the greeting enthusiastic', pipeline: 'excited', after: [], submitWhenParked: 'french',
    body: "greet('Ada') should end with an exclamation mark.",
    shows: 'merges first, on the same line the French task changes',
  },
  {
    key: 'changelog', title: 'Write the changelog', pipeline: 'changelog', after: ['french', 'shout', 'excited'], submitWhenParked: 'french',
    body: 'Add CHANGELOG.md for 1.1.0 listing the other demo changes.',
    shows: 'starts only after the other three shipped (after:)',
  },
];
