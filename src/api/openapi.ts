// The OpenAPI document, generated from the route table so it can never drift from the code.
import { z } from 'zod';
import type { Route } from './route.js';

const jsonSchema = (s: z.ZodType): Record<string, unknown> => {
  try {
    return z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return {};
  }
};

export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = r.path.replace(/:(\w+)/g, '{$1}');
    const params: unknown[] = [];
    for (const m of r.path.matchAll(/:(\w+)/g)) params.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    if (r.query) {
      const q = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) params.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
    (paths[p] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } } : {}),
      ...(r.access === 'none' ? { security: [] } : {}),
      'x-gantry-permission': r.access,
      responses: {
        '200': { description: r.responseDescription ?? 'OK' },
        '400': { description: 'Invalid input: {error: {code, message, field, hint}}' },
        ...(r.access !== 'none' ? { '401': { description: 'Missing or invalid token' }, '403': { description: 'Token role does not allow this' } } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gantry API', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
