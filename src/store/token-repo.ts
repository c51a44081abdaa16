// API tokens: only a SHA-256 of each secret is stored. Secrets are 32 random bytes, so an
// unsalted hash is safe and lets lookup be one indexed equality.
import { createHash, randomBytes } from 'node:crypto';
import { encodeId } from '../domain/ids.js';
import type { Role } from '../domain/auth.js';
import type { Store, TokenRecord, TokenRepo } from '../ports/store.js';
import { toToken } from './rows.js';

export const hashToken = (secret: string): string => createHash('sha256').update(secret).digest('hex');
export const newSecret = (role: Role): string => `gnt_${role}_${randomBytes(32).toString('base64url')}`;

export class TokenRepoSql implements TokenRepo {
  constructor(private readonly store: Store) {}

  async create(opts: { name: string; role: Role; factoryId?: string | null }): Promise<{ token: string; record: TokenRecord }> {
    const token = newSecret(opts.role);
    const record = await this.insert(token, opts);
    return { token, record };
  }

  private insert(secret: string, opts: { name: string; role: Role; factoryId?: string | null }): Promise<TokenRecord> {
    const id = encodeId('k', randomBytes(8));
    return this.store.write(async (tx) => {
      const row = await tx.get(
        'INSERT INTO tokens (id, name, role, hash, factory_id, created_at) VALUES (?, ?, ?, ?, ?, NOW_MS) RETURNING *',
        [id, opts.name, opts.role, hashToken(secret), opts.factoryId ?? null],
      );
      tx.emit({ type: 'token.created', payload: { tokenId: id, role: opts.role, name: opts.name } });
      return toToken(row!);
    });
  }

  async verify(secret: string): Promise<TokenRecord | undefined> {
    if (!secret.startsWith('gnt_')) return undefined;
    const row = await this.store.db.get('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL', [hashToken(secret)]);
    return row ? toToken(row) : undefined;
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.store.db.all('SELECT * FROM tokens ORDER BY created_at')).map(toToken);
  }

  async revoke(id: string): Promise<void> {
    await this.store.write(async (tx) => {
      const n = await tx.run('UPDATE tokens SET revoked_at = NOW_MS WHERE id = ? AND revoked_at IS NULL', [id]);
      if (n > 0) tx.emit({ type: 'token.revoked', payload: { tokenId: id } });
    });
  }

  async ensure(secret: string, opts: { name: string; role: Role }): Promise<TokenRecord> {
    const existing = await this.verify(secret);
    return existing ?? this.insert(secret, opts);
  }
}
