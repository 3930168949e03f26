// The layer rule of ARCHITECTURE.md, checked on the import graph: what workflows import runs in Temporal's workflow
// sandbox and on every replay, so workflows/ and lib/ import only lib/ (workflows also each other), the workflow
// SDK, @temporalio/common and zod; workflows may import activity *types* (for proxyActivities). Below them,
// activities/ and core/ never import a layer above (core/ is plain functions); above them, workers/, tools/ and
// scripts/ import only what lies below them. Imports are read
// with the TypeScript compiler's parser, so type-only imports, re-exports and dynamic import() are told apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PACKAGES = new Set(['@temporalio/workflow', '@temporalio/common', 'zod']);

/**
 * Folders each layer's value imports may resolve to, and the packages it may import (`any`: Node and npm alike);
 * type-only imports may also reach `typesFrom`.
 */
const RULES: Record<string, { layers: string[]; typesFrom: string[]; packages: Set<string> | 'any' }> = {
  lib: { layers: ['lib'], typesFrom: [], packages: PACKAGES },
  workflows: { layers: ['lib', 'workflows'], typesFrom: ['activities'], packages: PACKAGES },
  activities: { layers: ['lib', 'core', 'activities'], typesFrom: [], packages: 'any' },
  core: { layers: ['lib', 'core'], typesFrom: [], packages: 'any' },
  // Process plumbing, the bench and the client commands sit above the pipeline, in that order: workers/ never reaches
  // up into tools/ or scripts/ (the worker image ships workers/ without them), tools/ never into scripts/.
  workers: { layers: ['lib', 'core', 'activities', 'workflows', 'workers'], typesFrom: [], packages: 'any' },
  tools: { layers: ['lib', 'core', 'activities', 'workflows', 'workers', 'tools'], typesFrom: [], packages: 'any' },
  scripts: { layers: ['lib', 'core', 'activities', 'workflows', 'workers', 'tools', 'scripts'], typesFrom: [], packages: 'any' },
};

/** Known violations being removed on another branch; an entry that no longer occurs fails, so it gets deleted. */
const KNOWN_VIOLATIONS = new Set<string>([]);

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function importsOf(file: string, text = readFileSync(join(ROOT, file), 'utf8')): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: Import[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const namedTypesOnly =
        !!clause &&
        !clause.name &&
        !!clause.namedBindings &&
        ts.isNamedImports(clause.namedBindings) &&
        clause.namedBindings.elements.length > 0 &&
        clause.namedBindings.elements.every((element) => element.isTypeOnly);
      found.push({ file, specifier: node.moduleSpecifier.text, typeOnly: !!clause?.isTypeOnly || namedTypesOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ file, specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments.length === 1 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ file, specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ file, specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function tsFiles(layer: string): string[] {
  return readdirSync(join(ROOT, layer), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(layer, name))
    .sort();
}

/** The repo-relative .ts file a relative specifier names ('./x.js' is x.ts under NodeNext). */
function resolveRelative(from: string, specifier: string): string {
  const target = relative(ROOT, resolve(ROOT, dirname(from), specifier));
  const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, join(target, 'index.ts')];
  return candidates.find((candidate) => existsSync(join(ROOT, candidate))) ?? target;
}

/** The imports that break the rule of `layer`, as 'file -> target'. */
function breaches(layer: string, imports: Import[]): string[] {
  const rule = RULES[layer];
  const broken: string[] = [];
  for (const { file, specifier, typeOnly } of imports) {
    if (!specifier.startsWith('.')) {
      if (rule.packages !== 'any' && !rule.packages.has(specifier) && !typeOnly) broken.push(`${file} -> ${specifier}`);
      continue;
    }
    const target = resolveRelative(file, specifier);
    const targetLayer = target.split('/')[0];
    const allowed = rule.layers.includes(targetLayer) || (typeOnly && rule.typesFrom.includes(targetLayer));
    if (!allowed) broken.push(`${file} -> ${target}`);
  }
  return broken;
}

function violations(layer: string): string[] {
  return tsFiles(layer).flatMap((file) => breaches(layer, importsOf(file)));
}

test('the import parser tells value, type-only, re-export and dynamic imports apart', () => {
  const probe = 'test/architecture/imports.test.ts';
  const imports = importsOf(probe);
  assert.ok(imports.some((i) => i.specifier === 'typescript' && !i.typeOnly));
  assert.ok(imports.some((i) => i.specifier === 'node:fs' && !i.typeOnly));
  const proxies = importsOf('workflows/activity-proxies.ts').filter((i) => i.specifier.startsWith('../activities/'));
  assert.ok(proxies.length > 0 && proxies.every((i) => i.typeOnly), 'activity-proxies imports activity types only');
});

for (const layer of Object.keys(RULES)) {
  const { layers, packages } = RULES[layer];
  const allowed = [...layers.map((name) => `${name}/`), ...(packages === 'any' ? ['packages'] : packages)];
  test(`${layer}/ imports only ${allowed.join(', ')}`, () => {
    const found = violations(layer);
    const unexpected = found.filter((violation) => !KNOWN_VIOLATIONS.has(violation));
    assert.deepEqual(unexpected, [], `imports that break the layer rule of ARCHITECTURE.md:\n${unexpected.join('\n')}`);
  });
}

test('every known violation still occurs (delete the entry once it is fixed)', () => {
  const found = new Set(Object.keys(RULES).flatMap(violations));
  const stale = [...KNOWN_VIOLATIONS].filter((violation) => !found.has(violation));
  assert.deepEqual(stale, []);
});

/**
 * The rooms of core/, top to bottom: a file imports its own room and those below it, never one above. The apps
 * (console, serving) and the data generator read everything; monitoring judges scoring's output; scoring applies
 * models; models are fitted with their explanations' baseline; explanations fold contributions onto the features;
 * features encode and profile feature-store rows; datamart and etl build those rows; onnx, xgboost and statistics
 * are the numeric engines; core's own files (duckdb, files, hashing, random, …) are the floor everyone stands on.
 */
const CORE_ROOMS = ['console', 'serving', 'generator', 'monitoring', 'scoring', 'models', 'explain', 'features', 'datamart', 'etl', 'onnx', 'xgboost', 'statistics', 'types', ''];

/** The room of a core/ file: its folder under core/, or '' for a file directly in core/. */
const coreRoom = (file: string) => (file.split('/').length > 2 ? file.split('/')[1] : '');

/** The imports of core files that point to a room above their own, as 'file -> target'. */
function coreUpArrows(imports: Import[]): string[] {
  const arrows: string[] = [];
  for (const { file, specifier } of imports) {
    if (!specifier.startsWith('.')) continue;
    const target = resolveRelative(file, specifier);
    if (!target.startsWith('core/')) continue;
    const [from, to] = [CORE_ROOMS.indexOf(coreRoom(file)), CORE_ROOMS.indexOf(coreRoom(target))];
    if (from < 0 || to < 0 || to < from) arrows.push(`${file} -> ${target}`);
  }
  return arrows;
}

/** Up-arrows inside core/ being removed on another branch; one that no longer occurs fails, so it gets deleted. */
const KNOWN_CORE_UP_ARROWS = new Set<string>([]);

test(`inside core/, rooms import only downwards: ${CORE_ROOMS.map((room) => room || '(core/*.ts)').join(' → ')}`, () => {
  const found = tsFiles('core').flatMap((file) => coreUpArrows(importsOf(file)));
  const unexpected = found.filter((arrow) => !KNOWN_CORE_UP_ARROWS.has(arrow));
  assert.deepEqual(unexpected, [], `up-arrows inside core/ (a new room belongs in CORE_ROOMS):\n${unexpected.join('\n')}`);
  const stale = [...KNOWN_CORE_UP_ARROWS].filter((arrow) => !found.includes(arrow));
  assert.deepEqual(stale, [], 'known up-arrows that no longer occur: delete them');
});

test('the core room check finds an arrow up and lets one down pass', () => {
  const text = ["import { readRegistry } from '../models/registry.js';", "import { psi } from '../statistics/drift.js';", "import { withDuckDB } from '../duckdb.js';"].join('\n');
  assert.deepEqual(coreUpArrows(importsOf('core/explain/made-up.ts', text)), ['core/explain/made-up.ts -> core/models/registry.ts']);
  assert.deepEqual(coreUpArrows(importsOf('core/made-up.ts', "import { psi } from './statistics/drift.js';")), ['core/made-up.ts -> core/statistics/drift.ts']);
});

test('Node modules, core/, activity values and other packages are violations; types and lib/ are not', () => {
  // The checker on a made-up workflow file, so that a checker that finds nothing cannot pass silently.
  const text = [
    "import { readFile } from 'node:fs/promises';",
    "import { withDuckDB } from '../core/duckdb.js';",
    "import { createEtlActivities } from '../activities/etl.js';",
    "import type { createTrainingActivities } from '../activities/training.js';",
    "import { type Config } from '../lib/config.js';",
    "import { monthSchema } from '../lib/months.js';",
    "import { proxyActivities } from '@temporalio/workflow';",
    "import { Client } from '@temporalio/client';",
    "export { forEachBounded } from './bounded.js';",
    "const later = () => import('../scripts/cli.js');",
  ].join('\n');
  assert.deepEqual(breaches('workflows', importsOf('workflows/made-up.ts', text)), [
    'workflows/made-up.ts -> node:fs/promises',
    'workflows/made-up.ts -> core/duckdb.ts',
    'workflows/made-up.ts -> activities/etl.ts',
    'workflows/made-up.ts -> @temporalio/client',
    'workflows/made-up.ts -> scripts/cli.ts',
  ]);
  assert.deepEqual(breaches('lib', importsOf('lib/made-up.ts', text.replaceAll('../lib/', './'))), [
    'lib/made-up.ts -> node:fs/promises',
    'lib/made-up.ts -> core/duckdb.ts',
    'lib/made-up.ts -> activities/etl.ts',
    'lib/made-up.ts -> activities/training.ts',
    'lib/made-up.ts -> @temporalio/client',
    'lib/made-up.ts -> scripts/cli.ts',
  ]);
});

