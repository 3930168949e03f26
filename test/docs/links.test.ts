// The repository documents itself: every relative link in README.md and docs/ resolves inside the clone, and no page
// points outside it (a user's clone has no ../shared).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = ['README.md', 'ARCHITECTURE.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];

/** Markdown link and image targets: [text](target) and ![alt](target), without a URL scheme or an in-page anchor. */
export function relativeTargets(markdown: string): string[] {
  return [...markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0]!);
}

test('every relative link of the user documentation resolves inside the repository', () => {
  const broken: string[] = [];
  for (const page of PAGES) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    for (const target of relativeTargets(text)) {
      const path = resolve(ROOT, dirname(page), target);
      if (!path.startsWith(ROOT) || !existsSync(path)) broken.push(`${page}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('no page points at ../shared, which a clone does not have', () => {
  for (const page of PAGES) assert.doesNotMatch(readFileSync(join(ROOT, page), 'utf8'), /\.\.\/shared/, page);
});

test('the link finder sees links and images, and skips URLs and anchors', () => {
  assert.deepEqual(relativeTargets('[a](docs/x.md#y) ![b](img.png) [c](https://e.org) [d](#here)'), ['docs/x.md', 'img.png']);
});

test('the README stays a first read: at most 200 lines', () => {
  assert.ok(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length <= 200);
});
