// The `scm:` section of gantry.yaml: which SCM adapter lands this project's work (src/scm/registry.ts)
// and the forge's settings. A token is never configuration: it comes from the environment or a file
// named here, so gantry.yaml can be committed and shown without leaking it.
import { z } from 'zod';

const TOKEN_HINT = 'never put a token in gantry.yaml: set GANTRY_GITHUB_TOKEN or GITHUB_TOKEN in the environment, or name a file holding it with scm.github.tokenFile';

export const githubConfigSchema = z.strictObject({
  /** owner/name; default: read from the project remote (https://host/owner/name(.git) or git@host:owner/name). */
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'use owner/name').optional(),
  /** The REST API root: https://api.github.com, https://HOST/api/v3 for GitHub Enterprise. */
  apiUrl: z.url().default('https://api.github.com'),
  /** A file holding the token (absolute or ~/…); read when the adapter is made, never logged. */
  tokenFile: z.string().min(1).optional(),
  /** Labels put on every pull request Gantry opens. */
  labels: z.array(z.string().min(1)).default(['gantry']),
  /** Where the dashboard is reachable, for the link in the pull request body. */
  dashboardUrl: z.url().optional(),
  /** A file holding the webhook secret (absolute, ~/…, or relative to the project); GANTRY_GITHUB_WEBHOOK_SECRET wins. */
  webhookSecretFile: z.string().min(1).optional(),
  /** Issue intake: open issues with this label become tasks; pollSeconds makes the coordinator sync on its own. */
  intake: z.strictObject({ label: z.string().min(1), pollSeconds: z.number().int().min(10).max(86_400).optional() }).optional(),
  webhookSecret: z.unknown().refine(() => false, { message: 'never put the webhook secret in gantry.yaml: set GANTRY_GITHUB_WEBHOOK_SECRET or name a file holding it with scm.github.webhookSecretFile' }).optional(),
  token: z.unknown().refine(() => false, { message: TOKEN_HINT }).optional(),
});

export const scmConfigSchema = z.strictObject({
  adapter: z.string().min(1).default('git-remote'),
  github: githubConfigSchema.optional(),
});

export type GitHubConfig = z.output<typeof githubConfigSchema>;
export type ScmConfig = z.output<typeof scmConfigSchema>;
