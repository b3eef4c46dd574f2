/**
 * The console's API types are the server's: start the real server, generate
 * the types from its OpenAPI document and compare with the committed
 * web/src/lib/api-types.ts. When this fails, run `npm run api-types -w @loaxa/web`
 * and fix whatever the type check then reports in the console.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PERMISSIONS as SERVER_PERMISSIONS,
  PROVINCE_ONLY as SERVER_PROVINCE_ONLY,
  PROVINCE_ROLES as SERVER_PROVINCE_ROLES,
} from '../../server/src/auth/permissions';
import { API_TYPES_FILE, generateApiTypes, readServerOpenApi } from '../scripts/api-types';
import {
  PERMISSIONS as CONSOLE_PERMISSIONS,
  PROVINCE_ONLY as CONSOLE_PROVINCE_ONLY,
  PROVINCE_ROLES as CONSOLE_PROVINCE_ROLES,
} from '../src/lib/permissions';

describe('console ↔ server contract', () => {
  it('web/src/lib/api-types.ts matches the running server’s OpenAPI document', async () => {
    const document = await readServerOpenApi();
    const generated = await generateApiTypes(document);
    const committed = fs.readFileSync(API_TYPES_FILE, 'utf8');
    if (generated !== committed) {
      const a = committed.split('\n');
      const b = generated.split('\n');
      const line = a.findIndex((text, i) => text !== b[i]);
      throw new Error(
        `web/src/lib/api-types.ts is out of date (first difference at line ${line + 1}: ` +
          `${JSON.stringify(a[line])} ≠ ${JSON.stringify(b[line])}). Run: npm run api-types -w @loaxa/web`,
      );
    }
    expect(generated).toContain("'/api/v1/devices'");
  });

  it('generation notices a changed route', async () => {
    const document = (await readServerOpenApi()) as { paths: Record<string, unknown> };
    const before = await generateApiTypes(document);
    delete document.paths['/api/v1/zones'];
    expect(await generateApiTypes(document)).not.toBe(before);
  });

  it('the console hides what the server forbids, by the same rules', () => {
    // The console copies only the permissions it uses; each copy must equal the server's.
    const server = SERVER_PERMISSIONS as Record<string, readonly string[]>;
    for (const [permission, roles] of Object.entries(CONSOLE_PERMISSIONS)) {
      expect({ permission, roles: [...roles].sort() }).toEqual({
        permission,
        roles: [...(server[permission] ?? [])].sort(),
      });
    }
  });

  it('the console knows which permissions only a province user holds, and its roles', () => {
    expect([...CONSOLE_PROVINCE_ONLY].sort()).toEqual([...SERVER_PROVINCE_ONLY].sort());
    expect([...CONSOLE_PROVINCE_ROLES].sort()).toEqual([...SERVER_PROVINCE_ROLES].sort());
  });
});
