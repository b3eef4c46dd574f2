/**
 * Generates web/src/lib/api-types.ts from the server's OpenAPI document, so the
 * console's API client is typed by what the server really accepts and answers.
 *
 *   npm run api-types -w @loaxa/web     (starts a throw-away server, rewrites the file)
 *
 * web/test/api-contract.test.ts regenerates the same text and fails when the
 * committed file differs: a server change that the console has not caught up
 * with shows up as a failing test, not as a broken page.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import prettier from 'prettier';

export const API_TYPES_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/lib/api-types.ts');

const HEADER = `/**
 * GENERATED from the server's OpenAPI document (GET /api/v1/openapi.json) by
 * web/scripts/api-types.ts. Do not edit: run \`npm run api-types -w @loaxa/web\`.
 * web/test/api-contract.test.ts fails when this file and the server disagree.
 */
`;

/** The TypeScript text for an OpenAPI document (stable: same document → same text). */
export async function generateApiTypes(document: object): Promise<string> {
  // The version changes with every release and says nothing about the contract.
  const doc = structuredClone(document) as OpenAPI3;
  if (doc.info) doc.info.version = '0';
  const nodes = await openapiTS(doc, { silent: true, alphabetize: false });
  const operations = listOperations(doc);
  const body =
    HEADER +
    astToString(nodes) +
    '\n/** Every operation the server offers, as "METHOD /path": the console shows a page only when its API exists. */\n' +
    `export const API_OPERATIONS = ${JSON.stringify(operations)} as const;\n` +
    'export type ApiOperation = (typeof API_OPERATIONS)[number];\n';
  const options = (await prettier.resolveConfig(API_TYPES_FILE)) ?? {};
  return prettier.format(body, { ...options, filepath: API_TYPES_FILE });
}

function listOperations(doc: OpenAPI3): string[] {
  const methods = ['get', 'put', 'post', 'delete', 'patch'] as const;
  const operations: string[] = [];
  for (const [route, item] of Object.entries(doc.paths ?? {})) {
    for (const method of methods) {
      if (item && typeof item === 'object' && method in item) operations.push(`${method.toUpperCase()} ${route}`);
    }
  }
  return operations.sort();
}

/** Starts a real server on loopback ports, reads its OpenAPI document, stops it. */
export async function readServerOpenApi(): Promise<object> {
  const { startTestServer } = await import('../../server/test/helpers');
  const server = await startTestServer();
  try {
    const response = await fetch(`${server.url}/api/v1/openapi.json`);
    if (!response.ok) throw new Error(`GET /api/v1/openapi.json answered ${response.status}`);
    return (await response.json()) as object;
  } finally {
    await server.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = await generateApiTypes(await readServerOpenApi());
  const before = fs.existsSync(API_TYPES_FILE) ? fs.readFileSync(API_TYPES_FILE, 'utf8') : '';
  fs.writeFileSync(API_TYPES_FILE, text);
  console.log(`${path.relative(process.cwd(), API_TYPES_FILE)}: ${before === text ? 'unchanged' : 'updated'}`);
  process.exit(0);
}
